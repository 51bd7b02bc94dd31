import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, IsNull, LessThan, type EntityManager } from 'typeorm';
import { DatasetEntity } from '../datasets/dataset.entity';
import { VersionEntity, VersionFileEntity, VersionTagEntity } from './version.entity';
import type { ManifestFile } from './version-rules';

/** Rows per INSERT of files: 5 parameters each stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const FILES_PER_INSERT = 4000;

/** A path that differs between two versions, as the diff query reads it. */
export interface FileChangeRow {
  path: string;
  /** 1 added, 2 removed, 3 changed (the proto's FileChangeKind). */
  kind: number;
  fromSize: number;
  toSize: number;
  fromSha256: string;
  toSha256: string;
}

/** Reads and writes versions, their files and tags; the only part of the feature that knows the database. */
@Injectable()
export class VersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The live dataset, its row locked until `tx` ends: commits to one dataset take their numbers one at a time. */
  lockDataset(tx: EntityManager, id: string): Promise<DatasetEntity | null> {
    return tx.findOne(DatasetEntity, { where: { id, deletedAt: IsNull() }, ...Dialect.of(tx).lockForUpdate<DatasetEntity>() });
  }

  /** The live dataset with this id. */
  findDataset(tx: EntityManager, id: string): Promise<DatasetEntity | null> {
    return tx.findOneBy(DatasetEntity, { id, deletedAt: IsNull() });
  }

  /** The live dataset of that name in the project. */
  findDatasetByName(tx: EntityManager, projectId: string, name: string): Promise<DatasetEntity | null> {
    return tx.findOneBy(DatasetEntity, { projectId, name, deletedAt: IsNull() });
  }

  async setLastVersion(tx: EntityManager, datasetId: string, number: number, now: number): Promise<void> {
    await tx.update(DatasetEntity, { id: datasetId }, { lastVersion: number, updatedAt: now });
  }

  /** The live version `number` of the dataset. */
  findVersion(tx: EntityManager, datasetId: string, number: number): Promise<VersionEntity | null> {
    return tx.findOneBy(VersionEntity, { datasetId, number, deletedAt: IsNull() });
  }

  async insertVersion(tx: EntityManager, version: VersionEntity): Promise<void> {
    await tx.insert(VersionEntity, version);
  }

  async markVersionDeleted(tx: EntityManager, versionId: string, now: number): Promise<void> {
    await tx.update(VersionEntity, { id: versionId }, { deletedAt: now });
    await tx.delete(VersionTagEntity, { versionId });
  }

  /** How many of `paths` the version holds. */
  async countPaths(tx: EntityManager, versionId: string, paths: readonly string[]): Promise<number> {
    if (paths.length === 0) return 0;
    const parameters = Dialect.of(tx).parameters();
    const sql = `SELECT COUNT(*) AS n FROM ${tableOf(tx, VersionFileEntity)} WHERE version_id = ${parameters.bind(versionId)} AND ${parameters.inList('path', paths)}`;
    const [row]: Array<{ n: string | number }> = await tx.query(sql, parameters.values);
    return Number(row.n);
  }

  /** Copies the files of version `fromId` into version `toId`, but for `exceptPaths`, in one statement. */
  async copyFiles(tx: EntityManager, fromId: string, toId: string, exceptPaths: readonly string[]): Promise<void> {
    const table = tableOf(tx, VersionFileEntity);
    const parameters = Dialect.of(tx).parameters();
    // SQLite's placeholders are positional: bind in the order they appear.
    const to = parameters.bind(toId);
    const from = parameters.bind(fromId);
    const except = exceptPaths.length ? ` AND ${parameters.inList('path', exceptPaths, true)}` : '';
    const sql = `INSERT INTO ${table} (version_id, path, size, sha256, media_type) SELECT ${to}, path, size, sha256, media_type FROM ${table} WHERE version_id = ${from}${except}`;
    await tx.query(sql, parameters.values);
  }

  /** Writes `files` into the version, a few thousand rows a statement. */
  async insertFiles(tx: EntityManager, versionId: string, files: readonly ManifestFile[]): Promise<void> {
    const table = tableOf(tx, VersionFileEntity);
    const dialect = Dialect.of(tx);
    for (let start = 0; start < files.length; start += FILES_PER_INSERT) {
      const batch = files.slice(start, start + FILES_PER_INSERT);
      const values: unknown[] = [];
      const rows = batch.map((file) => {
        values.push(versionId, file.path, file.size, file.sha256, file.mediaType);
        const at = values.length - 4;
        return `(${[0, 1, 2, 3, 4].map((offset) => dialect.placeholder(at + offset)).join(', ')})`;
      });
      await tx.query(`INSERT INTO ${table} (version_id, path, size, sha256, media_type) VALUES ${rows.join(', ')}`, values);
    }
  }

  /** How many files the version holds and their total size. */
  async totals(tx: EntityManager, versionId: string): Promise<{ fileCount: number; totalBytes: number }> {
    const sql = `SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM ${tableOf(tx, VersionFileEntity)} WHERE version_id = ${Dialect.of(tx).placeholder(1)}`;
    const [row]: Array<{ n: string | number; bytes: string | number }> = await tx.query(sql, [versionId]);
    return { fileCount: Number(row.n), totalBytes: Number(row.bytes) };
  }

  async setTotals(tx: EntityManager, versionId: string, totals: { fileCount: number; totalBytes: number }): Promise<void> {
    await tx.update(VersionEntity, { id: versionId }, totals);
  }

  /** Up to `limit` of the dataset's live versions, newest first, below number `before` (from the newest without one). */
  pageVersions(tx: EntityManager, datasetId: string, before: number | undefined, limit: number): Promise<VersionEntity[]> {
    const where = before === undefined ? { datasetId, deletedAt: IsNull() } : { datasetId, deletedAt: IsNull(), number: LessThan(before) };
    return tx.find(VersionEntity, { where, order: { number: 'DESC' }, take: limit });
  }

  /** Up to `limit` files of the version in path order (bytewise), after `after`, under `prefix`. */
  async pageFiles(tx: EntityManager, versionId: string, prefix: string, after: string | undefined, limit: number): Promise<VersionFileEntity[]> {
    const parameters = Dialect.of(tx).parameters();
    const conditions = [`version_id = ${parameters.bind(versionId)}`];
    if (prefix) conditions.push(`path >= ${parameters.bind(prefix)}`, parameters.like('path', `${escapeLike(prefix)}%`));
    if (after !== undefined) conditions.push(`path > ${parameters.bind(after)}`);
    const sql = `SELECT path, size, sha256, media_type FROM ${tableOf(tx, VersionFileEntity)} WHERE ${conditions.join(' AND ')} ORDER BY path LIMIT ${limit}`;
    const rows: Array<{ path: string; size: string | number; sha256: string; media_type: string }> = await tx.query(sql, parameters.values);
    return rows.map((row) => ({ versionId, path: row.path, size: Number(row.size), sha256: row.sha256, mediaType: row.media_type }));
  }

  /**
   * Up to `limit` paths that differ from version `fromId` to `toId` ('' for an empty version), in
   * path order after `after`: one query of two anti-joins on the files' primary key.
   */
  async pageDiff(tx: EntityManager, fromId: string, toId: string, after: string | undefined, limit: number): Promise<FileChangeRow[]> {
    const table = tableOf(tx, VersionFileEntity);
    const parameters = Dialect.of(tx).parameters();
    const addedOrChanged =
      `SELECT t.path AS path, CASE WHEN f.path IS NULL THEN 1 ELSE 3 END AS kind, COALESCE(f.size, 0) AS from_size, t.size AS to_size, ` +
      `COALESCE(f.sha256, '') AS from_sha256, t.sha256 AS to_sha256 FROM ${table} t LEFT JOIN ${table} f ON f.version_id = ${parameters.bind(fromId)} AND f.path = t.path ` +
      `WHERE t.version_id = ${parameters.bind(toId)} AND (f.path IS NULL OR f.sha256 <> t.sha256 OR f.media_type <> t.media_type)` +
      (after === undefined ? '' : ` AND t.path > ${parameters.bind(after)}`);
    const removed =
      `SELECT f.path AS path, 2 AS kind, f.size AS from_size, 0 AS to_size, f.sha256 AS from_sha256, '' AS to_sha256 ` +
      `FROM ${table} f LEFT JOIN ${table} t ON t.version_id = ${parameters.bind(toId)} AND t.path = f.path ` +
      `WHERE f.version_id = ${parameters.bind(fromId)} AND t.path IS NULL` +
      (after === undefined ? '' : ` AND f.path > ${parameters.bind(after)}`);
    const sql = `SELECT * FROM (${addedOrChanged} UNION ALL ${removed}) d ORDER BY path LIMIT ${limit}`;
    const rows: Array<{ path: string; kind: string | number; from_size: string | number; to_size: string | number; from_sha256: string; to_sha256: string }> = await tx.query(sql, parameters.values);
    return rows.map((row) => ({
      path: row.path,
      kind: Number(row.kind),
      fromSize: Number(row.from_size),
      toSize: Number(row.to_size),
      fromSha256: row.from_sha256,
      toSha256: row.to_sha256,
    }));
  }

  /** The tags of each of the versions, in tag order. */
  async tagsOf(tx: EntityManager, versionIds: readonly string[]): Promise<Map<string, string[]>> {
    const tags = new Map<string, string[]>();
    if (versionIds.length === 0) return tags;
    const parameters = Dialect.of(tx).parameters();
    const sql = `SELECT version_id, tag FROM ${tableOf(tx, VersionTagEntity)} WHERE ${parameters.inList('version_id', versionIds)} ORDER BY tag`;
    const rows: Array<{ version_id: string; tag: string }> = await tx.query(sql, parameters.values);
    for (const row of rows) tags.set(row.version_id, [...(tags.get(row.version_id) ?? []), row.tag]);
    return tags;
  }

  /** The tag of the dataset; with `lock`, its row locked until `tx` ends. */
  findTag(tx: EntityManager, datasetId: string, tag: string, lock = false): Promise<VersionTagEntity | null> {
    return tx.findOne(VersionTagEntity, { where: { datasetId, tag }, ...(lock ? Dialect.of(tx).lockForUpdate<VersionTagEntity>() : {}) });
  }

  /** Points the tag at the version, whatever it named before. */
  async setTag(tx: EntityManager, datasetId: string, tag: string, versionId: string, now: number): Promise<void> {
    const dialect = Dialect.of(tx);
    const sql = dialect.upsert(tableOf(tx, VersionTagEntity), ['dataset_id', 'tag', 'version_id', 'updated_at'], 1, ['dataset_id', 'tag'], ['version_id = excluded.version_id', 'updated_at = excluded.updated_at']);
    await tx.query(sql, [datasetId, tag, versionId, now]);
  }

  async deleteTag(tx: EntityManager, datasetId: string, tag: string): Promise<void> {
    await tx.delete(VersionTagEntity, { datasetId, tag });
  }

  /** The version a tag names, with its row. */
  async findVersionById(tx: EntityManager, versionId: string): Promise<VersionEntity | null> {
    return tx.findOneBy(VersionEntity, { id: versionId, deletedAt: IsNull() });
  }

  /**
   * The digests the live versions whose blobs are in storage instance `storeName` name, each once:
   * what garbage collection must keep. Read it in the transaction that deletes, so that a version
   * committed before it counts.
   */
  async liveDigests(tx: EntityManager, storeName: string): Promise<Set<string>> {
    const parameters = Dialect.of(tx).parameters();
    const sql =
      `SELECT DISTINCT f.sha256 AS sha256 FROM ${tableOf(tx, VersionFileEntity)} f JOIN ${tableOf(tx, VersionEntity)} v ON v.id = f.version_id ` +
      `WHERE v.store_name = ${parameters.bind(storeName)} AND v.deleted_at IS NULL`;
    const rows: Array<{ sha256: string }> = await tx.query(sql, parameters.values);
    return new Set(rows.map((row) => row.sha256));
  }

  /**
   * Which of `sha256s` a live version with blobs in `storeName` names: the same question as
   * {@link liveDigests}, for a batch of candidates. Files have no index on sha256 (commits copy
   * rows, and it would slow each copy), so this scans the live versions' files of the instance.
   */
  async liveAmong(tx: EntityManager, storeName: string, sha256s: readonly string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const parameters = Dialect.of(tx).parameters();
    const sql =
      `SELECT DISTINCT f.sha256 AS sha256 FROM ${tableOf(tx, VersionFileEntity)} f JOIN ${tableOf(tx, VersionEntity)} v ON v.id = f.version_id ` +
      `WHERE ${parameters.inList('f.sha256', sha256s)} AND v.store_name = ${parameters.bind(storeName)} AND v.deleted_at IS NULL`;
    const rows: Array<{ sha256: string }> = await tx.query(sql, parameters.values);
    return new Set(rows.map((row) => row.sha256));
  }

  /** Which of `sha256s` a live version of the project, stored in `storeName`, names. */
  async liveInProjectAmong(tx: EntityManager, projectId: string, storeName: string, sha256s: readonly string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const parameters = Dialect.of(tx).parameters();
    const sql =
      `SELECT DISTINCT f.sha256 AS sha256 FROM ${tableOf(tx, VersionFileEntity)} f JOIN ${tableOf(tx, VersionEntity)} v ON v.id = f.version_id JOIN ${tableOf(tx, DatasetEntity)} d ON d.id = v.dataset_id ` +
      `WHERE ${parameters.inList('f.sha256', sha256s)} AND v.store_name = ${parameters.bind(storeName)} AND v.deleted_at IS NULL AND d.project_id = ${parameters.bind(projectId)}`;
    const rows: Array<{ sha256: string }> = await tx.query(sql, parameters.values);
    return new Set(rows.map((row) => row.sha256));
  }
}

/** A literal prefix as a LIKE pattern's start: `%`, `_` and backslash escaped. */
function escapeLike(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (char) => `\\${char}`);
}
