import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AliasEntity } from '../aliases/alias.entity';
import { RegisteredModelEntity } from '../models/model.entity';
import type { PagePosition } from '../common/page-position';
import type { Tag } from '../common/registry-limits';
import { ModelVersionEntity, VersionTagEntity, type VersionStatusName } from './version.entity';
import type { VersionView } from './version.mapping';

/** One page of a version search, in the order SearchVersions lists: by model name, project, then version newest first. */
export interface VersionSearchQuery {
  /** The projects to search (at least one). */
  projectIds: string[];
  nameLike: string;
  runIds: string[];
  tags: Tag[];
  /** The (name, project, version) the previous page ended with. */
  after?: PagePosition;
  limit: number;
}

/** A version found by a search, with what its page token needs. */
export interface VersionHit {
  modelId: number;
  version: number;
  name: string;
  projectId: string;
}

/** A version with the model it belongs to. */
export interface VersionOfModel {
  version: ModelVersionEntity;
  model: Pick<RegisteredModelEntity, 'id' | 'projectId' | 'name'>;
}

/** Reads and writes versions and their tags; the only part of the feature that knows the database. */
@Injectable()
export class VersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  find(modelId: number, version: number, tx: EntityManager = this.dataSource.manager): Promise<ModelVersionEntity | null> {
    return tx.findOneBy(ModelVersionEntity, { modelId, version });
  }

  /** Inserts a new version with its tags. */
  async insert(tx: EntityManager, version: ModelVersionEntity, tags: Tag[]): Promise<void> {
    await tx.insert(ModelVersionEntity, version);
    if (tags.length > 0) await tx.insert(VersionTagEntity, tags.map((tag) => ({ modelId: version.modelId, version: version.version, ...tag })));
  }

  /** Every PENDING version with its model: the copies a stopped process left behind, when read at start. */
  async pending(tx: EntityManager): Promise<VersionOfModel[]> {
    const rows = await tx.findBy(ModelVersionEntity, { status: 'PENDING' });
    if (rows.length === 0) return [];
    const models = await tx.findBy(RegisteredModelEntity, { id: In([...new Set(rows.map((row) => row.modelId))]) });
    return rows.flatMap((version) => {
      const model = models.find((candidate) => candidate.id === version.modelId);
      return model ? [{ version, model }] : [];
    });
  }

  /** Ends a copy: the version becomes `outcome` if it is still PENDING. Returns it as changed, or null when it was not PENDING (or is gone). */
  async settle(tx: EntityManager, modelId: number, version: number, outcome: VersionStatusName, message: string): Promise<ModelVersionEntity | null> {
    const { affected } = await tx.update(ModelVersionEntity, { modelId, version, status: 'PENDING' }, { status: outcome, statusMessage: message, updatedAt: Date.now() });
    return affected ? this.find(modelId, version, tx) : null;
  }

  async update(tx: EntityManager, modelId: number, version: number, changes: Partial<Pick<ModelVersionEntity, 'description' | 'updatedAt'>>): Promise<void> {
    await tx.update(ModelVersionEntity, { modelId, version }, changes);
  }

  /** Deletes a version; its tags go with it (the foreign key cascades). */
  async delete(tx: EntityManager, modelId: number, version: number): Promise<void> {
    await tx.delete(ModelVersionEntity, { modelId, version });
  }

  async setTag(tx: EntityManager, modelId: number, version: number, tag: Tag): Promise<void> {
    await tx.upsert(VersionTagEntity, { modelId, version, ...tag }, ['modelId', 'version', 'key']);
  }

  /** Deletes a tag; returns whether the version had it. */
  async deleteTag(tx: EntityManager, modelId: number, version: number, key: string): Promise<boolean> {
    const { affected } = await tx.delete(VersionTagEntity, { modelId, version, key });
    return !!affected;
  }

  /** The aliases pointing at the version, by alias. */
  aliasesOf(tx: EntityManager, modelId: number, version: number): Promise<AliasEntity[]> {
    return tx.find(AliasEntity, { where: { modelId, version }, order: { alias: 'ASC' } });
  }

  /** The version an alias of the model points at, or undefined when the model has no such alias. */
  async aliasTarget(tx: EntityManager, modelId: number, alias: string): Promise<number | undefined> {
    return (await tx.findOneBy(AliasEntity, { modelId, alias }))?.version;
  }

  /** The versions with their tags and aliases, in one query per kind for the whole page. */
  async views(rows: VersionOfModel[], tx: EntityManager = this.dataSource.manager): Promise<VersionView[]> {
    if (rows.length === 0) return [];
    const modelIds = [...new Set(rows.map((row) => row.model.id))];
    const [tags, aliases] = await Promise.all([
      tx.find(VersionTagEntity, { where: { modelId: In(modelIds), version: In(rows.map((row) => row.version.version)) }, order: { key: 'ASC' } }),
      tx.find(AliasEntity, { where: { modelId: In(modelIds) }, order: { alias: 'ASC' } }),
    ]);
    const of = (row: { modelId: number; version: number }, version: ModelVersionEntity) => row.modelId === version.modelId && row.version === version.version;
    return rows.map(({ version, model }) => ({
      version,
      model: { projectId: model.projectId, name: model.name },
      tags: tags.filter((tag) => of(tag, version)).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((alias) => of(alias, version)).map((alias) => alias.alias),
    }));
  }

  /** One page of versions (at most `limit`) and whether more follow, from one SELECT with every value bound. */
  async search(query: VersionSearchQuery): Promise<{ hits: VersionHit[]; more: boolean }> {
    const sql = Dialect.of(this.dataSource).parameters();
    const where = [sql.inList('m.project_id', query.projectIds)];
    if (query.nameLike) where.push(sql.like('m.name', query.nameLike));
    if (query.runIds.length > 0) where.push(sql.inList('v.run_id', query.runIds));
    for (const tag of query.tags) {
      where.push(
        `EXISTS (SELECT 1 FROM version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ${sql.bind(tag.key)} AND t.value = ${sql.bind(tag.value)})`,
      );
    }
    if (query.after) {
      const [name, projectId, version] = query.after;
      // Bound once per use: SQLite's `?` placeholders are positional.
      where.push(
        `(m.name > ${sql.bind(name)} OR (m.name = ${sql.bind(name)} AND (m.project_id > ${sql.bind(projectId)} OR (m.project_id = ${sql.bind(projectId)} AND v.version < ${sql.bind(version)}))))`,
      );
    }
    const rows: Array<{ model_id: number | string; version: number | string; name: string; project_id: string }> = await this.dataSource.query(
      `SELECT v.model_id, v.version, m.name, m.project_id FROM model_versions v JOIN registered_models m ON m.id = v.model_id
       WHERE ${where.join(' AND ')}
       ORDER BY m.name, m.project_id, v.version DESC LIMIT ${sql.bind(query.limit + 1)}`,
      sql.values,
    );
    const hits = rows.slice(0, query.limit).map((row) => ({ modelId: Number(row.model_id), version: Number(row.version), name: row.name, projectId: row.project_id }));
    return { hits, more: rows.length > query.limit };
  }

  /** The versions of `hits` with their models, in the hits' order; a version deleted since is left out. */
  async versionsOf(hits: Array<{ modelId: number; version: number }>): Promise<VersionOfModel[]> {
    if (hits.length === 0) return [];
    const manager = this.dataSource.manager;
    const modelIds = [...new Set(hits.map((hit) => hit.modelId))];
    const [models, rows] = await Promise.all([
      manager.findBy(RegisteredModelEntity, { id: In(modelIds) }),
      manager.findBy(ModelVersionEntity, { modelId: In(modelIds), version: In([...new Set(hits.map((hit) => hit.version))]) }),
    ]);
    return hits.flatMap((hit) => {
      const model = models.find((candidate) => candidate.id === hit.modelId);
      const version = rows.find((row) => row.modelId === hit.modelId && row.version === hit.version);
      return model && version ? [{ model, version }] : [];
    });
  }
}
