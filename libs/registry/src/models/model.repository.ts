import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AliasEntity } from '../aliases/alias.entity';
import type { PagePosition } from '../common/page-position';
import type { Tag } from '../common/registry-limits';
import type { ModelView } from './model.mapping';
import { ModelVersionEntity } from '../versions/version.entity';
import { ModelTagEntity, RegisteredModelEntity } from './model.entity';

/** One page of a model search, in the order SearchModels lists: by name, then project. */
export interface ModelSearchQuery {
  /** The projects to search (at least one). */
  projectIds: string[];
  nameLike: string;
  tags: Tag[];
  /** The (name, project) the previous page ended with. */
  after?: PagePosition;
  limit: number;
}

/** Reads and writes models and their tags; the only part of the feature that knows the database. */
@Injectable()
export class ModelRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The model named `name` in the project; with `lock`, its row stays locked until `tx` ends (on PostgreSQL). */
  findByName(projectId: string, name: string, lock: boolean, tx: EntityManager = this.dataSource.manager): Promise<RegisteredModelEntity | null> {
    return tx.findOne(RegisteredModelEntity, { where: { projectId, name }, ...(lock ? Dialect.of(tx).lockForUpdate<RegisteredModelEntity>() : {}) });
  }

  findById(tx: EntityManager, id: number): Promise<RegisteredModelEntity | null> {
    return tx.findOneBy(RegisteredModelEntity, { id });
  }

  exists(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(RegisteredModelEntity, { projectId, name });
  }

  /** Inserts a new model with its tags; the model gets its id. */
  async insert(tx: EntityManager, model: Omit<RegisteredModelEntity, 'id'>, tags: Tag[]): Promise<RegisteredModelEntity> {
    const saved = await tx.save(tx.create(RegisteredModelEntity, model));
    if (tags.length > 0) await tx.insert(ModelTagEntity, tags.map((tag) => ({ modelId: saved.id, ...tag })));
    return saved;
  }

  async update(tx: EntityManager, id: number, changes: Partial<Omit<RegisteredModelEntity, 'id'>>): Promise<void> {
    await tx.update(RegisteredModelEntity, { id }, changes);
  }

  /** Deletes the model; its versions and tags go with it (foreign keys cascade), its alias history stays. */
  async delete(tx: EntityManager, id: number): Promise<void> {
    await tx.delete(RegisteredModelEntity, { id });
  }

  /** The storage instances that hold copies of the model's versions, by name. */
  async versionStoresOf(tx: EntityManager, modelId: number): Promise<string[]> {
    const rows = await tx
      .createQueryBuilder(ModelVersionEntity, 'v')
      .select('DISTINCT v.artifactStore', 'store')
      .where('v.modelId = :modelId AND v.artifactStore IS NOT NULL', { modelId })
      .orderBy('store')
      .getRawMany<{ store: string }>();
    return rows.map((row) => row.store);
  }

  /** The aliases pointing at any of the model's versions, by alias. */
  aliasesOf(tx: EntityManager, modelId: number): Promise<AliasEntity[]> {
    return tx.find(AliasEntity, { where: { modelId }, order: { alias: 'ASC' } });
  }

  async setTag(tx: EntityManager, modelId: number, tag: Tag): Promise<void> {
    await tx.upsert(ModelTagEntity, { modelId, ...tag }, ['modelId', 'key']);
  }

  /** Deletes a tag; returns whether the model had it. */
  async deleteTag(tx: EntityManager, modelId: number, key: string): Promise<boolean> {
    const { affected } = await tx.delete(ModelTagEntity, { modelId, key });
    return !!affected;
  }

  /** The models with their tags and aliases, in one query per kind for the whole page. */
  async views(models: RegisteredModelEntity[], tx: EntityManager = this.dataSource.manager): Promise<ModelView[]> {
    if (models.length === 0) return [];
    const ids = models.map((model) => model.id);
    const [tags, aliases] = await Promise.all([
      tx.find(ModelTagEntity, { where: { modelId: In(ids) }, order: { key: 'ASC' } }),
      tx.find(AliasEntity, { where: { modelId: In(ids) }, order: { alias: 'ASC' } }),
    ]);
    return models.map((model) => ({
      model,
      tags: tags.filter((tag) => tag.modelId === model.id).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((alias) => alias.modelId === model.id).map(({ alias, version }) => ({ alias, version })),
    }));
  }

  /** One page of models (at most `limit`) and whether more follow, from one SELECT with every value bound, then the rows. */
  async search(query: ModelSearchQuery): Promise<{ models: RegisteredModelEntity[]; more: boolean }> {
    const sql = Dialect.of(this.dataSource).parameters();
    const where = [sql.inList('m.project_id', query.projectIds)];
    if (query.nameLike) where.push(sql.like('m.name', query.nameLike));
    for (const tag of query.tags) {
      where.push(`EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id AND t.key = ${sql.bind(tag.key)} AND t.value = ${sql.bind(tag.value)})`);
    }
    if (query.after) {
      const [name, projectId] = query.after;
      // Bound once per use: SQLite's `?` placeholders are positional.
      where.push(`(m.name > ${sql.bind(name)} OR (m.name = ${sql.bind(name)} AND m.project_id > ${sql.bind(projectId)}))`);
    }
    const rows: Array<{ id: number | string }> = await this.dataSource.query(
      `SELECT m.id FROM registered_models m WHERE ${where.join(' AND ')} ORDER BY m.name, m.project_id LIMIT ${sql.bind(query.limit + 1)}`,
      sql.values,
    );
    const ids = rows.map((row) => Number(row.id));
    const found = ids.length > 0 ? await this.dataSource.getRepository(RegisteredModelEntity).findBy({ id: In(ids.slice(0, query.limit)) }) : [];
    const byId = new Map(found.map((model) => [model.id, model]));
    const models = ids.map((id) => byId.get(id)).filter((model): model is RegisteredModelEntity => !!model);
    // The row past the page only says that there is a next page.
    return { models, more: ids.length > query.limit };
  }
}
