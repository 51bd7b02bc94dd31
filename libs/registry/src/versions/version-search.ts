import { Injectable } from '@nestjs/common';
import { decodePageToken, encodePageToken, InvalidArgumentError, likeCondition, pageSizeOf } from '@trellis/platform';
import { DataSource } from 'typeorm';
import { checkTags, checkText, REGISTRY_LIMITS, type Tag } from '../registry-limits';
import { dialectOf, positionOf, SqlParameters } from '../registry-sql';

/** A search of versions once the caller's readable projects are known. */
export interface VersionQuery {
  projectIds: string[] | 'all';
  nameLike: string;
  runIds: string[];
  tags: Tag[];
  pageSize: number;
  pageToken: string;
}

/** A version found, by its model's key and number. */
export interface VersionHit {
  modelId: number;
  version: number;
}

/**
 * One page of versions by model name, project, then version newest first, from one SELECT with
 * every value bound; page tokens carry the last (name, project, version).
 */
@Injectable()
export class VersionSearch {
  constructor(private readonly dataSource: DataSource) {}

  async search(query: VersionQuery): Promise<{ hits: VersionHit[]; nextPageToken: string }> {
    checkText(query.nameLike, REGISTRY_LIMITS.modelNameLength, 'name_like');
    checkTags(query.tags);
    if (query.runIds.length > REGISTRY_LIMITS.runIdsPerSearch) {
      throw new InvalidArgumentError(`has ${query.runIds.length} entries; the limit is ${REGISTRY_LIMITS.runIdsPerSearch}`, 'run_ids');
    }
    query.runIds.forEach((runId, index) => checkText(runId, 64, `run_ids[${index}]`));
    const size = pageSizeOf(query.pageSize);
    const projectIds = query.projectIds === 'all' ? 'all' : [...new Set(query.projectIds)].sort();
    const listing = {
      projects: JSON.stringify(projectIds),
      nameLike: query.nameLike,
      runIds: JSON.stringify([...new Set(query.runIds)].sort()),
      tags: JSON.stringify(query.tags),
    };
    const after = positionOf(decodePageToken(query.pageToken, listing), 3);
    if (projectIds !== 'all' && projectIds.length === 0) return { hits: [], nextPageToken: '' };

    const sql = new SqlParameters(dialectOf(this.dataSource));
    const where: string[] = [];
    if (projectIds !== 'all') where.push(sql.oneOf('m.project_id', projectIds));
    if (query.nameLike) where.push(likeCondition('m.name', query.nameLike, sql.dialect, (value) => sql.bind(value)));
    if (query.runIds.length > 0) where.push(sql.oneOf('v.run_id', query.runIds));
    for (const tag of query.tags) {
      where.push(
        `EXISTS (SELECT 1 FROM version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ${sql.bind(tag.key)} AND t.value = ${sql.bind(tag.value)})`,
      );
    }
    if (after) {
      const [name, projectId, version] = after;
      where.push(
        `(m.name > ${sql.bind(name)} OR (m.name = ${sql.bind(name)} AND (m.project_id > ${sql.bind(projectId)} OR (m.project_id = ${sql.bind(projectId)} AND v.version < ${sql.bind(version)}))))`,
      );
    }
    const rows: Array<{ model_id: number | string; version: number | string; name: string; project_id: string }> = await this.dataSource.query(
      `SELECT v.model_id, v.version, m.name, m.project_id FROM model_versions v JOIN registered_models m ON m.id = v.model_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY m.name, m.project_id, v.version DESC LIMIT ${sql.bind(size + 1)}`,
      sql.values,
    );
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    const nextPageToken = rows.length > size ? encodePageToken(JSON.stringify([last.name, last.project_id, Number(last.version)]), listing) : '';
    return { hits: page.map((row) => ({ modelId: Number(row.model_id), version: Number(row.version) })), nextPageToken };
  }
}
