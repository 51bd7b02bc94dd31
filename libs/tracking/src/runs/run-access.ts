import { Injectable } from '@nestjs/common';
import type { Action, Caller } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { checkRunId } from '../common/tracking-limits';
import { runNotFound } from './run-errors';
import type { RunEntity } from './run.entity';
import { RunRepository } from './run.repository';

const PROJECT_CACHE_SIZE = 10_000;

/**
 * Finds a run and checks that the caller may act on it, in one place for every feature that
 * takes a `run_id` (runs, metrics, artifacts).
 */
@Injectable()
export class RunAccess {
  /** A run's project never changes, so logging calls check permissions without reading the run. */
  private readonly projects = new Map<string, string>();

  constructor(private readonly runs: RunRepository) {}

  /**
   * The run, after `caller.assert(action, 'Run', ...)`; NOT_FOUND naming the run when there is none.
   * With `lock`, inside `manager`'s transaction, the run's row stays locked until it ends
   * (PostgreSQL; SQLite runs one write transaction at a time).
   */
  async require(caller: Caller, action: Action, runId: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<RunEntity> {
    checkRunId(runId);
    const run = await this.runs.findById(runId, manager, options);
    if (!run) throw runNotFound(runId);
    this.remember(run.id, run.projectId);
    caller.assert(action, 'Run', { projectId: run.projectId, id: run.id });
    return run;
  }

  /**
   * Checks that the caller may `action` the run, reading only its (immutable) project, from
   * memory after the first time. It says nothing of the run's state: callers that need an active
   * run check that in their own transaction.
   */
  async assert(caller: Caller, action: Action, runId: string): Promise<void> {
    checkRunId(runId);
    let projectId = this.projects.get(runId);
    if (projectId === undefined) {
      projectId = await this.runs.projectOf(runId);
      if (projectId === undefined) throw runNotFound(runId);
      this.remember(runId, projectId);
    }
    caller.assert(action, 'Run', { projectId, id: runId });
  }

  private remember(runId: string, projectId: string): void {
    if (this.projects.has(runId)) return;
    if (this.projects.size >= PROJECT_CACHE_SIZE) this.projects.delete(this.projects.keys().next().value as string);
    this.projects.set(runId, projectId);
  }
}
