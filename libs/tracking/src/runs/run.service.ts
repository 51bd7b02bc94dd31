import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, checkLength, checkRequired, checkNoControlCharacters, checkNoNul, DomainError, excerpt, InvalidArgumentError, NotFoundError, Outbox, resourceName } from '@trellis/platform';
import { RunCreatedEventSchema, RunFinishedEventSchema, RunInputsLoggedEventSchema } from '@trellis/proto';
import { DataSource, type EntityManager } from 'typeorm';
import { ArtifactStores } from '../artifacts/artifact-stores';
import { RunArtifactStores } from '../artifacts/run-artifact-stores';
import { checkExperimentActive, ExperimentService } from '../experiments/experiment.service';
import { trackingEvents } from '../tracking.events';
import { MetricRepository, type MetricPoint } from '../metrics/metric.repository';
import { RunSearch } from './run-search';
import { checkLogBatch, type KeyValue, type LogBatch } from './log-batch.validation';
import { checkKey, experimentIdOf, TRACKING_LIMITS } from '../common/tracking-limits';
import { runInfoToProto } from './run-info.mapping';
import { RunAccess } from './run-access';
import { RunEntity, TERMINAL_STATUSES, type RunInputEntity, type RunStatusName } from './run.entity';
import { RunRepository } from './run.repository';
import { generatedRunName } from './run-name';
import { checkDatasetInput, type NewDatasetInput } from './dataset-input.validation';
import { runNotActive } from './run-errors';

/** MLflow's system tags that carry run fields. */
const PARENT_TAG = 'mlflow.parentRunId';
const RUN_NAME_TAG = 'mlflow.runName';
const USER_TAG = 'mlflow.user';

/** A run with everything it logged, as GetRun and SearchRuns return it. */
export interface RunView {
  run: RunEntity;
  params: KeyValue[];
  tags: KeyValue[];
  metrics: MetricPoint[];
  inputs: RunInputEntity[];
}

/** What a new run needs. */
export interface NewRun {
  experimentId: string;
  runName: string;
  /** 0 for now. */
  startTimeMs: number;
  tags: KeyValue[];
  parentRunId: string;
  /** The user the caller names (MLflow's `user_id`), kept as given; absent: the mlflow.user tag, else the caller. */
  userId?: string;
}

/** What UpdateRun changes: the fields present, each to its value. */
export interface RunChanges {
  status?: RunStatusName;
  endTimeMs?: number;
  runName?: string;
}

/** What a search of runs asks for. */
export interface RunQuery {
  experimentIds: string[];
  filter: string;
  orderBy: string[];
  viewType: 'active' | 'deleted' | 'all';
  pageSize: number;
  pageToken: string;
}

/** Runs: create, read, update, delete and restore, logging, inputs and search. */
@Injectable()
export class RunService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly access: RunAccess,
    private readonly runs: RunRepository,
    private readonly experiments: ExperimentService,
    private readonly metrics: MetricRepository,
    private readonly runSearch: RunSearch,
    private readonly stores: ArtifactStores,
    private readonly runStores: RunArtifactStores,
  ) {}

  async create(caller: Caller, input: NewRun): Promise<RunView> {
    const experiment = await this.experiments.get(caller, input.experimentId);
    caller.assert('create', 'Run', { projectId: experiment.projectId });
    checkExperimentActive(experiment);
    input.tags.forEach((tag, index) => {
      checkKey(tag.key, `tags[${index}].key`);
      checkLength(tag.value, TRACKING_LIMITS.runTagValueLength, `tags[${index}].value`);
      checkNoNul(tag.value, `tags[${index}].value`);
    });
    if (input.userId) checkNoNul(input.userId, 'user_id');
    const tags = new Map(input.tags.map((tag) => [tag.key, tag.value]));
    const nameTag = tags.get(RUN_NAME_TAG);
    if (input.runName && nameTag && input.runName !== nameTag) {
      throw new InvalidArgumentError(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${excerpt(input.runName)}', mlflow.runName='${excerpt(nameTag)}').`,
      );
    }
    const name = input.runName || nameTag || generatedRunName();
    checkRunName(name);
    tags.set(RUN_NAME_TAG, name);
    let parentRunId: string | null = null;
    if (input.parentRunId) {
      const parent = await this.access.require(caller, 'read', input.parentRunId);
      if (parent.experimentId !== experiment.id) {
        throw new InvalidArgumentError(`parent run ${input.parentRunId} belongs to another experiment`, 'parent_run_id');
      }
      parentRunId = parent.id;
      tags.set(PARENT_TAG, parentRunId);
    } else if (tags.has(PARENT_TAG)) {
      parentRunId = await this.nestingParent(caller, experiment.id, tags.get(PARENT_TAG) ?? '');
    }

    const id = randomBytes(16).toString('hex');
    const run: RunEntity = Object.assign(new RunEntity(), {
      id,
      experimentId: experiment.id,
      projectId: experiment.projectId,
      name,
      userId: input.userId ?? (tags.get(USER_TAG) || caller.authenticated.id),
      status: 'RUNNING' as const,
      startTime: input.startTimeMs || Date.now(),
      endTime: null,
      artifactUri: `${experiment.artifactLocation}/${id}/artifacts`,
      artifactStore: await this.stores.storeNameFor(experiment.projectId),
      artifactKms: await this.runStores.kmsForNewRun(caller, experiment.projectId),
      lifecycleStage: 'active' as const,
      parentRunId,
      deletedWithExperiment: false,
    });
    const tagRows = [...tags].map(([key, value]) => ({ key, value }));
    await this.dataSource.transaction(async (manager) => {
      await this.runs.insert(manager, run, tagRows);
      await this.outbox.publish(manager, trackingEvents, {
        subject: 'trellis.tracking.v1.run.created',
        message: create(RunCreatedEventSchema, { runInfo: runInfoToProto(run) }),
        projectId: run.projectId,
        actor: caller.authenticated.id,
        requestId: caller.requestId,
      });
      await this.audit.recordIn(manager, caller, { id, projectId: run.projectId });
    });
    return { run, params: [], tags: tagRows, metrics: [], inputs: [] };
  }

  async get(caller: Caller, runId: string): Promise<RunView> {
    const run = await this.access.require(caller, 'read', runId);
    const [view] = await this.hydrate([run]);
    return view;
  }

  /**
   * Changes the status, end time or name that `changes` holds; reaching a terminal status sets the
   * end time to now unless `changes` sets it, and publishes run.finished once.
   */
  async update(caller: Caller, runId: string, changes: RunChanges): Promise<RunEntity> {
    if (changes.runName !== undefined) {
      checkRequired(changes.runName, 'run_name');
      checkRunName(changes.runName);
    }
    return this.dataSource.transaction(async (manager) => {
      // Locked, so of two concurrent updates that finish the run only the first publishes run.finished.
      const run = await this.access.require(caller, 'update', runId, manager, { lock: true });
      checkActive(run);
      const wasTerminal = TERMINAL_STATUSES.includes(run.status);
      if (changes.status) run.status = changes.status;
      const finishing = !wasTerminal && TERMINAL_STATUSES.includes(run.status);
      if (changes.endTimeMs !== undefined) run.endTime = changes.endTimeMs;
      else if (finishing) run.endTime = Date.now();
      if (changes.runName !== undefined) {
        run.name = changes.runName;
        await this.runs.setTags(manager, run.id, [{ key: RUN_NAME_TAG, value: run.name }]);
      }
      await this.runs.updateState(manager, run);
      if (finishing) {
        await this.outbox.publish(manager, trackingEvents, {
          subject: 'trellis.tracking.v1.run.finished',
          message: create(RunFinishedEventSchema, { runInfo: runInfoToProto(run) }),
          projectId: run.projectId,
          actor: caller.authenticated.id,
          requestId: caller.requestId,
        });
      }
      await this.audit.recordIn(manager, caller);
      return run;
    });
  }

  async setDeleted(caller: Caller, runId: string, deleted: boolean): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const run = await this.access.require(caller, 'update', runId, manager);
      await this.runs.setStage(manager, run.id, deleted ? 'deleted' : 'active');
      await this.audit.recordIn(manager, caller);
    });
  }

  /**
   * Logs metrics, params and tags all or nothing. Params are immutable: the same value again is
   * accepted, another value is INVALID_ARGUMENT naming the param.
   */
  async logBatch(caller: Caller, runId: string, batch: LogBatch): Promise<void> {
    checkLogBatch(batch);
    if (batch.params.length === 0 && batch.tags.length === 0) {
      // The hot path: the metric store checks that the run is active as it locks the series.
      await this.access.assert(caller, 'update', runId);
      if (batch.metrics.length > 0) await this.dataSource.transaction((manager) => this.metrics.append(manager, runId, batch.metrics));
      return;
    }
    const run = await this.access.require(caller, 'update', runId);
    checkActive(run);
    await this.dataSource.transaction(async (manager) => {
      await this.logParams(manager, run.id, batch.params);
      if (batch.tags.length > 0) {
        const latest = new Map(batch.tags.map((tag) => [tag.key, tag.value]));
        await this.runs.setTags(manager, run.id, [...latest].map(([key, value]) => ({ key, value })));
      }
      if (batch.metrics.length > 0) await this.metrics.append(manager, run.id, batch.metrics);
    });
  }

  async deleteTag(caller: Caller, runId: string, key: string): Promise<void> {
    checkKey(key, 'key');
    const run = await this.access.require(caller, 'update', runId);
    checkActive(run);
    const deleted = await this.dataSource.transaction((manager) => this.runs.deleteTag(manager, run.id, key));
    if (!deleted) throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`, { reason: 'TAG_NOT_FOUND', resource: resourceName(['runs', run.id]) });
  }

  /** Records dataset inputs; a dataset logged again (same name and digest) only gains new tags. */
  async logInputs(caller: Caller, runId: string, inputs: NewDatasetInput[]): Promise<void> {
    inputs.forEach((input, index) => checkDatasetInput(input, `datasets[${index}]`));
    const run = await this.access.require(caller, 'update', runId);
    checkActive(run);
    await this.dataSource.transaction(async (manager) => {
      const existing = await this.runs.inputsOf(manager, run.id);
      let position = existing.length;
      for (const input of inputs) {
        const context = input.tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? null;
        const known = existing.find((row) => row.name === input.dataset.name && row.digest === input.dataset.digest);
        if (known) {
          const tags = new Map(known.tags.map((tag) => [tag.key, tag.value]));
          for (const tag of input.tags) tags.set(tag.key, tag.value);
          known.tags = [...tags].map(([key, value]) => ({ key, value }));
          known.context = known.context ?? context;
          await this.runs.updateInput(manager, known);
          continue;
        }
        existing.push(await this.runs.insertInput(manager, run.id, position++, { ...input.dataset, context, tags: input.tags }));
      }
      // Lineage links runs to the dataset versions they name; schemas and profiles stay out of the event.
      await this.outbox.publish(manager, trackingEvents, {
        subject: 'trellis.tracking.v1.run.inputs_logged',
        message: create(RunInputsLoggedEventSchema, {
          runInfo: runInfoToProto(run),
          datasetInputs: inputs.map((input) => ({ tags: input.tags, dataset: { ...input.dataset, schema: '', profile: '' } })),
        }),
        projectId: run.projectId,
        actor: caller.authenticated.id,
        requestId: caller.requestId,
      });
    });
  }

  async search(caller: Caller, query: RunQuery): Promise<{ runs: RunView[]; nextPageToken: string }> {
    if (query.experimentIds.length === 0) throw new InvalidArgumentError('name at least one experiment to search', 'experiment_ids');
    const ids = query.experimentIds.map((id, index) => experimentIdOf(id, `experiment_ids[${index}]`));
    for (const id of query.experimentIds) await this.experiments.get(caller, id);
    const page = await this.runSearch.search({ ...query, experimentIds: ids });
    if (page.runIds.length === 0) return { runs: [], nextPageToken: page.nextPageToken };
    const rows = await this.runs.findByIds(page.runIds);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const runs = await this.hydrate(page.runIds.map((id) => byId.get(id)).filter((row): row is RunEntity => !!row));
    return { runs, nextPageToken: page.nextPageToken };
  }

  /**
   * The run an mlflow.parentRunId tag nests a new run in: the run it names when that is a run of
   * the same experiment the caller may read, else none (MLflow keeps any value as a plain tag).
   */
  private async nestingParent(caller: Caller, experimentId: number, parentRunId: string): Promise<string | null> {
    try {
      const parent = await this.access.require(caller, 'read', parentRunId);
      return parent.experimentId === experimentId ? parent.id : null;
    } catch (error) {
      // No such run, a malformed id, or a run the caller may not read.
      if (error instanceof DomainError) return null;
      throw error;
    }
  }

  private async logParams(manager: EntityManager, runId: string, params: KeyValue[]): Promise<void> {
    if (params.length === 0) return;
    const logged = await this.runs.paramsOf(manager, runId, params.map((param) => param.key));
    const values = new Map(logged.map((param) => [param.key, param.value]));
    for (const param of params) {
      const earlier = values.get(param.key);
      if (earlier !== undefined && earlier !== param.value) {
        throw paramChanged(param.key, earlier, param.value, runId);
      }
    }
    const fresh = params.filter((param) => !values.has(param.key));
    if (fresh.length === 0) return;
    // A concurrent batch may log some of these keys first: the same value is then no conflict, another one is.
    await this.runs.insertParamsIfAbsent(manager, runId, fresh);
    const stored = await this.runs.paramsOf(manager, runId, fresh.map((param) => param.key));
    const wanted = new Map(fresh.map((param) => [param.key, param.value]));
    const changed = stored.find((param) => wanted.get(param.key) !== param.value);
    if (changed) {
      throw paramChanged(changed.key, changed.value, wanted.get(changed.key) ?? '', runId);
    }
  }

  private async hydrate(runs: RunEntity[]): Promise<RunView[]> {
    const ids = runs.map((run) => run.id);
    const [logged, metrics] = await Promise.all([this.runs.loggedBy(ids), this.metrics.latestFor(ids)]);
    return runs.map((run) => ({
      run,
      params: logged.params.get(run.id) ?? [],
      tags: logged.tags.get(run.id) ?? [],
      metrics: metrics.get(run.id) ?? [],
      inputs: logged.inputs.get(run.id) ?? [],
    }));
  }
}

/** INVALID_ARGUMENT (PARAM_VALUE_CHANGED), in MLflow's words, for a param logged again with another value. */
function paramChanged(key: string, logged: string, attempted: string, runId: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `Changing param values is not allowed. Param with key='${key}' was already logged with value='${excerpt(logged)}' for run ID='${runId}'. Attempted logging new value '${excerpt(attempted)}'.`,
    undefined,
    { reason: 'PARAM_VALUE_CHANGED', resource: resourceName(['runs', runId]) },
  );
}

function checkActive(run: RunEntity): void {
  if (run.lifecycleStage !== 'active') {
    throw runNotActive(run.id, `The run ${run.id} must be in the 'active' state. Current state is ${run.lifecycleStage}.`);
  }
}

/** A run name: at most 250 characters, none of them a control character. */
function checkRunName(name: string): void {
  checkLength(name, TRACKING_LIMITS.runNameLength, 'run_name');
  checkNoControlCharacters(name, 'run_name');
}
