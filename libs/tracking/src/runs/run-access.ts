import { Injectable } from '@nestjs/common';
import { NotFoundError, type Caller } from '@trellis/platform';
import type { Action } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { checkRunId } from '../validation/tracking-limits';
import { RunEntity } from './run.entity';

/**
 * Finds a run and checks that the caller may act on it, in one place for every feature that
 * takes a `run_id` (runs, metrics, artifacts). A run the caller may not read is reported as
 * missing only when it really is missing; otherwise PERMISSION_DENIED names the project.
 */
@Injectable()
export class RunAccess {
  constructor(private readonly dataSource: DataSource) {}

  /** The run, after `caller.assert(action, 'Run', ...)`; NOT_FOUND naming run_id when there is none. */
  async require(caller: Caller, action: Action, runId: string, manager: EntityManager = this.dataSource.manager): Promise<RunEntity> {
    checkRunId(runId);
    const run = await manager.findOneBy(RunEntity, { id: runId });
    if (!run) throw new NotFoundError(`run ${runId} does not exist`);
    caller.assert(action, 'Run', { projectId: run.projectId, id: run.id });
    return run;
  }
}
