import { Injectable } from '@nestjs/common';
import { decodePageToken, encodePageToken, likeCondition, pageSizeOf } from '@trellis/platform';
import { DataSource, In } from 'typeorm';
import { checkTags, checkText, REGISTRY_LIMITS, type Tag } from '../registry-limits';
import { dialectOf, positionOf, SqlParameters } from '../registry-sql';
import { RegisteredModelEntity } from './model.entity';

/** A search of models once the caller's readable projects are known. */
export interface ModelQuery {
  projectIds: string[] | 'all';
  nameLike: string;
  tags: Tag[];
  pageSize: number;
  pageToken: string;
}

/**
 * One page of models by name (then project), from one SELECT with every value bound; page tokens
 * carry the last name and project, so a page continues where the last one stopped.
 */
@Injectable()
export class ModelSearch {
  constructor(private readonly dataSource: DataSource) {}

  async search(query: ModelQuery): Promise<{ models: RegisteredModelEntity[]; nextPageToken: string }> {
    checkText(query.nameLike, REGISTRY_LIMITS.modelNameLength, 'name_like');
    checkTags(query.tags);
    const size = pageSizeOf(query.pageSize);
    const projectIds = query.projectIds === 'all' ? 'all' : [...new Set(query.projectIds)].sort();
    const listing = { projects: JSON.stringify(projectIds), nameLike: query.nameLike, tags: JSON.stringify(query.tags) };
    const after = positionOf(decodePageToken(query.pageToken, listing));
    if (projectIds !== 'all' && projectIds.length === 0) return { models: [], nextPageToken: '' };

    const sql = new SqlParameters(dialectOf(this.dataSource));
    const where: string[] = [];
    if (projectIds !== 'all') where.push(sql.oneOf('m.project_id', projectIds));
    if (query.nameLike) where.push(likeCondition('m.name', query.nameLike, sql.dialect, (value) => sql.bind(value)));
    for (const tag of query.tags) {
      where.push(`EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id AND t.key = ${sql.bind(tag.key)} AND t.value = ${sql.bind(tag.value)})`);
    }
    if (after) {
      // Bound once per use: SQLite's `?` placeholders are positional.
      where.push(`(m.name > ${sql.bind(after[0])} OR (m.name = ${sql.bind(after[0])} AND m.project_id > ${sql.bind(after[1])}))`);
    }
    const rows: Array<{ id: number | string }> = await this.dataSource.query(
      `SELECT m.id FROM registered_models m ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.name, m.project_id LIMIT ${sql.bind(size + 1)}`,
      sql.values,
    );
    const ids = rows.map((row) => Number(row.id));
    const found = ids.length > 0 ? await this.dataSource.getRepository(RegisteredModelEntity).findBy({ id: In(ids.slice(0, size)) }) : [];
    const byId = new Map(found.map((model) => [model.id, model]));
    const ordered = ids.map((id) => byId.get(id)).filter((model): model is RegisteredModelEntity => !!model);
    // The row past the page only says that there is a next page.
    const last = ordered[ordered.length - 1];
    const nextPageToken = ids.length > size && last ? encodePageToken(JSON.stringify([last.name, last.projectId]), listing) : '';
    return { models: ordered, nextPageToken };
  }
}
