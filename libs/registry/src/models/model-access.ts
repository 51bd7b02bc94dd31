import { Injectable } from '@nestjs/common';
import { type Action, type Caller, checkRequired, NotFoundError, type SubjectKind } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { checkModelName } from '../registry-limits';
import { RegisteredModelEntity } from './model.entity';

/** What a caller acts on under a model: the model itself, one of its versions, or an alias. */
export interface ModelTarget {
  action: Action;
  kind: SubjectKind;
  /** The id the audit log names (`churn/3`, `churn@champion`); the model's name when absent. */
  id?: string;
}

/**
 * Finds a model by project and name and checks that the caller may act on it or on something
 * under it, in one place for models, versions and aliases.
 */
@Injectable()
export class ModelAccess {
  constructor(private readonly dataSource: DataSource) {}

  /** The model, after `caller.assert(...)`; NOT_FOUND naming it when there is none. */
  require(caller: Caller, projectId: string, name: string, target: ModelTarget, manager: EntityManager = this.dataSource.manager): Promise<RegisteredModelEntity> {
    return this.find(caller, projectId, name, target, manager, false);
  }

  /**
   * The same inside a transaction, with the model's row locked until it ends (PostgreSQL; SQLite
   * runs one transaction at a time). Every change to a model's versions or aliases takes this
   * lock first, so version numbers, alias moves and their history never interleave.
   */
  lock(manager: EntityManager, caller: Caller, projectId: string, name: string, target: ModelTarget): Promise<RegisteredModelEntity> {
    return this.find(caller, projectId, name, target, manager, manager.connection.options.type === 'postgres');
  }

  private async find(caller: Caller, projectId: string, name: string, target: ModelTarget, manager: EntityManager, forUpdate: boolean): Promise<RegisteredModelEntity> {
    checkRequired(projectId, 'project_id');
    checkModelName(name);
    // Checked against the project first, so a caller outside it learns nothing of its models.
    caller.assert(target.action, target.kind, { projectId });
    const query = manager.createQueryBuilder(RegisteredModelEntity, 'model').where('model.project_id = :projectId AND model.name = :name', { projectId, name });
    const model = await (forUpdate ? query.setLock('pessimistic_write') : query).getOne();
    if (!model) throw new NotFoundError(`Registered Model with name=${name} not found`);
    caller.assert(target.action, target.kind, { projectId, id: target.id ?? model.name });
    return model;
  }
}
