import { Injectable } from '@nestjs/common';
import { DataSource, LessThan, LessThanOrEqual, type EntityManager } from 'typeorm';
import { RegisteredModelEntity } from '../models/model.entity';
import { ModelVersionEntity } from '../versions/version.entity';
import { AliasChangeEntity, AliasEntity, UsedApprovalEntity } from './alias.entity';

/** Reads and writes aliases, their history and spent approvals; the only part of the feature that knows the database. */
@Injectable()
export class AliasRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The version an alias of the model named `name` points at now, in one query; null when the model, alias or version is missing. */
  currentVersion(projectId: string, name: string, alias: string): Promise<ModelVersionEntity | null> {
    return this.dataSource.manager
      .createQueryBuilder(ModelVersionEntity, 'v')
      .innerJoin(AliasEntity, 'a', 'a.model_id = v.model_id AND a.version = v.version AND a.alias = :alias', { alias })
      .innerJoin(RegisteredModelEntity, 'm', 'm.id = v.model_id')
      .where('m.project_id = :projectId AND m.name = :name', { projectId, name })
      .getOne();
  }

  find(modelId: number, alias: string, tx: EntityManager = this.dataSource.manager): Promise<AliasEntity | null> {
    return tx.findOneBy(AliasEntity, { modelId, alias });
  }

  /** The last change of the alias at or before `atTimeMs`; of two in the same millisecond, the later one. */
  lastChangeAt(modelId: number, alias: string, atTimeMs: number): Promise<AliasChangeEntity | null> {
    return this.dataSource.manager.findOne(AliasChangeEntity, {
      where: { modelId, alias, timeMs: LessThanOrEqual(atTimeMs) },
      order: { timeMs: 'DESC', seq: 'DESC' },
    });
  }

  /** Up to `limit` changes of the model (of one alias, when named) before `beforeSeq`, newest first. */
  history(modelId: number, alias: string, beforeSeq: number | undefined, limit: number): Promise<AliasChangeEntity[]> {
    return this.dataSource.manager.find(AliasChangeEntity, {
      where: { modelId, ...(alias ? { alias } : {}), ...(beforeSeq !== undefined ? { seq: LessThan(beforeSeq) } : {}) },
      order: { seq: 'DESC' },
      take: limit,
    });
  }

  /** Points the alias at `version`, creating it when new. */
  async set(tx: EntityManager, modelId: number, alias: string, version: number): Promise<void> {
    await tx.upsert(AliasEntity, { modelId, alias, version }, ['modelId', 'alias']);
  }

  async delete(tx: EntityManager, modelId: number, alias: string): Promise<void> {
    await tx.delete(AliasEntity, { modelId, alias });
  }

  /** Appends a change to the history; the entry gets its sequence number. */
  async appendChange(tx: EntityManager, change: Omit<AliasChangeEntity, 'seq'>): Promise<AliasChangeEntity> {
    const entry = tx.create(AliasChangeEntity, change);
    await tx.insert(AliasChangeEntity, entry);
    return entry;
  }

  usedApproval(tx: EntityManager, approvalId: string): Promise<UsedApprovalEntity | null> {
    return tx.findOneBy(UsedApprovalEntity, { approvalId });
  }

  async recordUsedApproval(tx: EntityManager, used: UsedApprovalEntity): Promise<void> {
    await tx.insert(UsedApprovalEntity, used);
  }
}
