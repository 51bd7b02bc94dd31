import { Injectable } from '@nestjs/common';
import { type Action, type Caller, checkRequired, NotFoundError, resourceName, type SubjectKind } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { checkModelName } from '../common/registry-limits';
import type { RegisteredModelEntity } from './model.entity';
import { ModelRepository } from './model.repository';

/** What a caller acts on under a model: the model itself, one of its versions, or an alias. */
export interface ModelTarget {
  action: Action;
  kind: SubjectKind;
  /** The resource name the audit log records (a version's or an alias's, built by `resourceName`); the model's when absent. */
  name?: string;
}

/** The resource name of a model: `projects/{project_id}/models/{model_name}`. */
export function modelResourceName(projectId: string, model: string): string {
  return resourceName(['projects', projectId], ['models', model]);
}

/** The resource name of a model's version: `projects/{project_id}/models/{model_name}/versions/{version}`. */
export function versionResourceName(projectId: string, model: string, version: number): string {
  return `${modelResourceName(projectId, model)}/${resourceName(['versions', version])}`;
}

/** The resource name of a model's alias: `projects/{project_id}/models/{model_name}/aliases/{alias}`. */
export function aliasResourceName(projectId: string, model: string, alias: string): string {
  return `${modelResourceName(projectId, model)}/${resourceName(['aliases', alias])}`;
}

/**
 * Finds a model by project and name and checks that the caller may act on it or on something
 * under it, in one place for models, versions and aliases.
 */
@Injectable()
export class ModelAccess {
  constructor(private readonly models: ModelRepository) {}

  /** The model, after `caller.assert(...)`; NOT_FOUND naming it when there is none. */
  require(caller: Caller, projectId: string, name: string, target: ModelTarget, tx?: EntityManager): Promise<RegisteredModelEntity> {
    return this.find(caller, projectId, name, target, false, tx);
  }

  /**
   * The same inside a transaction, with the model's row locked until it ends (PostgreSQL; SQLite
   * runs one transaction at a time). Every change to a model's versions or aliases takes this
   * lock first, so version numbers, alias moves and their history never interleave.
   */
  lock(tx: EntityManager, caller: Caller, projectId: string, name: string, target: ModelTarget): Promise<RegisteredModelEntity> {
    return this.find(caller, projectId, name, target, true, tx);
  }

  private async find(caller: Caller, projectId: string, name: string, target: ModelTarget, lock: boolean, tx: EntityManager | undefined): Promise<RegisteredModelEntity> {
    checkRequired(projectId, 'project_id');
    checkModelName(name, 'model_name');
    // Checked against the project first, so a caller outside it learns nothing of its models.
    caller.assert(target.action, target.kind, { projectId });
    const model = await this.models.findByName(projectId, name, lock, tx);
    if (!model) throw new NotFoundError(`Registered Model with name=${name} not found`, { reason: 'MODEL_NOT_FOUND', resource: modelResourceName(projectId, name) });
    caller.assert(target.action, target.kind, { projectId, id: model.name, name: target.name });
    return model;
  }
}
