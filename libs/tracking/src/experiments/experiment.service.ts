import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, AuditRecorder, type Caller, checkLength, checkNoControlCharacters, checkNoNul, checkRequired, excerpt, FailedPreconditionError, NotFoundError, resourceName } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { ExperimentSearch } from './experiment-search';
import { checkKey, experimentIdOf, TRACKING_LIMITS } from '../common/tracking-limits';
import type { ExperimentEntity, LifecycleStageName } from './experiment.entity';
import { ExperimentRepository, type ExperimentTag } from './experiment.repository';

/** The experiment MLflow clients use when they name none; each project gets its own, on first use. */
export const DEFAULT_EXPERIMENT_NAME = 'Default';

/** What a new experiment needs. */
export interface NewExperiment {
  projectId: string;
  name: string;
  tags: ExperimentTag[];
}

/** What a search of experiments asks for. */
export interface ExperimentQuery {
  projectIds: string[];
  filter: string;
  orderBy: string[];
  viewType: 'active' | 'deleted' | 'all';
  pageSize: number;
  pageToken: string;
}

/** Experiments: create, find, rename, delete and restore (with their runs), tags. */
@Injectable()
export class ExperimentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRecorder,
    private readonly search: ExperimentSearch,
    private readonly experiments: ExperimentRepository,
  ) {}

  async create(caller: Caller, input: NewExperiment): Promise<ExperimentEntity> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', 'Experiment', { projectId: input.projectId });
    checkName(input.name, 'name');
    input.tags.forEach((tag, index) => checkExperimentTag(tag, `tags[${index}]`));
    return this.dataSource.transaction(async (manager) => {
      const experiment = await this.insert(manager, input);
      await this.audit.recordIn(manager, caller, { id: String(experiment.id), projectId: experiment.projectId });
      return experiment;
    });
  }

  async get(caller: Caller, experimentId: string, manager: EntityManager = this.dataSource.manager): Promise<ExperimentEntity> {
    const id = experimentIdOf(experimentId);
    const experiment = await this.experiments.findById(id, manager);
    // Ids are sequential: one the caller may not read looks missing, so other projects' ids do not leak.
    if (!experiment || !caller.can('read', 'Experiment', { projectId: experiment.projectId })) {
      throw experimentNotFound(`No Experiment with id=${experimentId} exists`);
    }
    caller.assert('read', 'Experiment', { projectId: experiment.projectId, id: experimentId });
    return experiment;
  }

  /**
   * The experiment of that name in the project. The project's `Default` experiment is created on
   * first use by anyone who may create experiments there, as MLflow's experiment "0" always exists.
   */
  async getByName(caller: Caller, projectId: string, name: string): Promise<ExperimentEntity> {
    checkRequired(projectId, 'project_id');
    checkRequired(name, 'name');
    checkNoNul(name, 'name');
    caller.assert('read', 'Experiment', { projectId });
    const found = await this.experiments.findByName(projectId, name);
    if (found) return found;
    if (name === DEFAULT_EXPERIMENT_NAME && caller.can('create', 'Experiment', { projectId })) {
      try {
        await this.dataSource.transaction(async (manager) => {
          const created = await this.insert(manager, { projectId, name, tags: [] });
          await this.audit.recordIn(manager, caller, { id: String(created.id), projectId, kind: 'Experiment', action: 'create' });
        });
      } catch (error) {
        // Two first uses raced (on PostgreSQL the loser's insert breaks the unique constraint): use the winner's.
        const created = await this.experiments.findByName(projectId, name);
        if (created) return created;
        throw error;
      }
      const created = await this.experiments.findByName(projectId, name);
      if (created) return created;
    }
    throw experimentNotFound(`Could not find experiment with name '${excerpt(name)}'`);
  }

  async searchExperiments(caller: Caller, query: ExperimentQuery): Promise<{ experiments: ExperimentEntity[]; nextPageToken: string }> {
    const readable = caller.boundProjectsWhere('read', 'Experiment');
    for (const projectId of query.projectIds) caller.assert('read', 'Experiment', { projectId });
    const projectIds = query.projectIds.length > 0 ? query.projectIds : readable;
    const page = await this.search.search({ ...query, projectIds });
    if (page.experimentIds.length === 0) return { experiments: [], nextPageToken: page.nextPageToken };
    const rows = await this.experiments.findByIds(page.experimentIds);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const experiments = page.experimentIds.map((id) => byId.get(id)).filter((row): row is ExperimentEntity => !!row);
    return { experiments, nextPageToken: page.nextPageToken };
  }

  async rename(caller: Caller, experimentId: string, newName: string): Promise<ExperimentEntity> {
    checkName(newName, 'name');
    return this.change(caller, experimentId, async (manager, experiment) => {
      if (experiment.name === DEFAULT_EXPERIMENT_NAME) {
        throw new FailedPreconditionError(`the ${DEFAULT_EXPERIMENT_NAME} experiment keeps its name: MLflow clients find it by name`, {
          reason: 'DEFAULT_EXPERIMENT_NAME_FIXED',
          resource: experimentResourceName(experiment),
        });
      }
      if (newName !== experiment.name && (await this.experiments.existsByName(manager, experiment.projectId, newName))) {
        throw experimentNameTaken(`Experiment(name=${excerpt(newName)}) already exists.`);
      }
      experiment.name = newName;
      await this.experiments.rename(manager, experiment.id, newName);
    });
  }

  /** Marks the experiment and its active runs deleted; restore brings back exactly those runs. */
  async setDeleted(caller: Caller, experimentId: string, deleted: boolean): Promise<void> {
    const stage: LifecycleStageName = deleted ? 'deleted' : 'active';
    await this.change(caller, experimentId, (manager, experiment) => this.experiments.setStage(manager, experiment.id, stage));
  }

  async setTag(caller: Caller, experimentId: string, tag: ExperimentTag): Promise<void> {
    checkExperimentTag(tag, 'tag');
    await this.change(caller, experimentId, async (manager, experiment) => {
      checkExperimentActive(experiment);
      await this.experiments.setTag(manager, experiment.id, tag);
    });
  }

  async deleteTag(caller: Caller, experimentId: string, key: string): Promise<void> {
    checkKey(key, 'key');
    await this.change(caller, experimentId, async (manager, experiment) => {
      checkExperimentActive(experiment);
      if (!(await this.experiments.deleteTag(manager, experiment.id, key))) {
        throw new NotFoundError(`No tag with name: ${key} in experiment with id ${experimentId}`, { reason: 'TAG_NOT_FOUND', resource: experimentResourceName(experiment) });
      }
    });
  }

  /** Runs `apply` on the experiment in a transaction, after checking the caller may update it, and audits it. */
  private async change(
    caller: Caller,
    experimentId: string,
    apply: (manager: EntityManager, experiment: ExperimentEntity) => Promise<void>,
  ): Promise<ExperimentEntity> {
    return this.dataSource.transaction(async (manager) => {
      const experiment = await this.get(caller, experimentId, manager);
      caller.assert('update', 'Experiment', { projectId: experiment.projectId, id: experimentId });
      await apply(manager, experiment);
      await this.audit.recordIn(manager, caller);
      return experiment;
    });
  }

  private async insert(manager: EntityManager, input: NewExperiment): Promise<ExperimentEntity> {
    if (await this.experiments.existsByName(manager, input.projectId, input.name)) {
      throw experimentNameTaken(`Experiment(name=${input.name}) already exists.`);
    }
    return this.experiments.insert(manager, input);
  }
}

function checkName(name: string, field: string): void {
  checkRequired(name.trim(), field);
  checkLength(name, TRACKING_LIMITS.experimentNameLength, field);
  checkNoControlCharacters(name, field);
}

function checkExperimentTag(tag: ExperimentTag, field: string): void {
  checkKey(tag.key, `${field}.key`);
  checkLength(tag.value, TRACKING_LIMITS.experimentTagValueLength, `${field}.value`);
  checkNoNul(tag.value, `${field}.value`);
}

/** FAILED_PRECONDITION, in MLflow's words, unless the experiment is active: a deleted one takes no new runs or tags. */
export function checkExperimentActive(experiment: ExperimentEntity): void {
  if (experiment.lifecycleStage !== 'active') {
    throw new FailedPreconditionError(`The experiment ${experiment.id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`, {
      reason: 'EXPERIMENT_NOT_ACTIVE',
      resource: experimentResourceName(experiment),
    });
  }
}

/** Names no project: an experiment the caller may not read must look missing (ids are sequential). */
function experimentNotFound(message: string): NotFoundError {
  return new NotFoundError(message, { reason: 'EXPERIMENT_NOT_FOUND' });
}

function experimentNameTaken(message: string): AlreadyExistsError {
  return new AlreadyExistsError(message, { reason: 'EXPERIMENT_NAME_TAKEN' });
}

function experimentResourceName(experiment: ExperimentEntity): string {
  return resourceName(['projects', experiment.projectId], ['experiments', experiment.id]);
}
