import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { VersionFileEntity } from '../versions/version.entity';
import { BlobProfileEntity } from './profile.entity';
import type { TableProfile, TabularFormat } from './profile.types';

/** A blob to profile: its digest, the format its path names, and the instance that holds it. */
export interface ProfileTask {
  sha256: string;
  format: TabularFormat;
  storeName: string;
}

/** How many of a version's files are tabular, and how many of those are profiled or failed. */
export interface VersionProfileCounts {
  tabular: number;
  ready: number;
  failed: number;
}

/** The format of a file by its extension, in SQL: the same rule as tabularFormatOf. */
const FORMAT_OF_PATH = `CASE WHEN lower(f.path) LIKE '%.csv' THEN 'csv' WHEN lower(f.path) LIKE '%.jsonl' OR lower(f.path) LIKE '%.ndjson' THEN 'jsonl' WHEN lower(f.path) LIKE '%.parquet' THEN 'parquet' END`;

/** Reads and writes blob profiles; the only part of the feature that knows the database. */
@Injectable()
export class ProfileRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Adds pending rows for the blobs not yet known in that format; a known one keeps its row. */
  async enqueue(tx: EntityManager, tasks: readonly ProfileTask[], now: number): Promise<void> {
    if (tasks.length === 0) return;
    const columns = ['sha256', 'format', 'store_name', 'status', 'message', 'attempts', 'updated_at'];
    const sql = Dialect.of(tx).upsert(tableOf(tx, BlobProfileEntity), columns, tasks.length, ['sha256', 'format']);
    await tx.query(sql, tasks.flatMap((t) => [t.sha256, t.format, t.storeName, 'pending', '', 0, now]));
  }

  /** The oldest pending blob, counted as one more attempt; `undefined` when none waits. */
  async takePending(now: number): Promise<BlobProfileEntity | undefined> {
    return this.dataSource.transaction(async (tx) => {
      const next = await tx.getRepository(BlobProfileEntity).findOne({ where: { status: 'pending' }, order: { updatedAt: 'ASC' } });
      if (!next) return undefined;
      await tx.getRepository(BlobProfileEntity).update({ sha256: next.sha256, format: next.format }, { attempts: next.attempts + 1, updatedAt: now });
      return { ...next, attempts: next.attempts + 1, updatedAt: now };
    });
  }

  /** Stores a profile and marks it ready. */
  async saveReady(sha256: string, format: string, profile: TableProfile, now: number): Promise<void> {
    await this.dataSource
      .getRepository(BlobProfileEntity)
      .update({ sha256, format }, { status: 'ready', message: profile.firstInvalid ?? '', profile: JSON.stringify(profile), updatedAt: now });
  }

  /** Marks a profile failed with the reason. */
  async saveFailed(sha256: string, format: string, message: string, now: number): Promise<void> {
    await this.dataSource.getRepository(BlobProfileEntity).update({ sha256, format }, { status: 'failed', message, profile: null, updatedAt: now });
  }

  /** The rows of these blobs, by `<sha256>/<format>`. */
  async find(keys: readonly { sha256: string; format: string }[]): Promise<Map<string, BlobProfileEntity>> {
    if (keys.length === 0) return new Map();
    const found = await this.dataSource.getRepository(BlobProfileEntity).find({ where: keys.map((k) => ({ sha256: k.sha256, format: k.format })) });
    return new Map(found.map((row) => [`${row.sha256}/${row.format}`, row]));
  }

  /** Counts over all of a version's files: tabular ones, and those ready or failed. */
  async versionCounts(versionId: string): Promise<VersionProfileCounts> {
    const parameters = Dialect.of(this.dataSource).parameters();
    const files = tableOf(this.dataSource, VersionFileEntity);
    const profiles = tableOf(this.dataSource, BlobProfileEntity);
    const sql = `SELECT count(*) AS tabular,
        coalesce(sum(CASE WHEN p.status = 'ready' THEN 1 ELSE 0 END), 0) AS ready,
        coalesce(sum(CASE WHEN p.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed
      FROM ${files} f LEFT JOIN ${profiles} p ON p.sha256 = f.sha256 AND p.format = ${FORMAT_OF_PATH}
      WHERE f.version_id = ${parameters.bind(versionId)} AND ${FORMAT_OF_PATH} IS NOT NULL`;
    const [row]: Array<{ tabular: string | number; ready: string | number; failed: string | number }> = await this.dataSource.query(sql, parameters.values);
    return { tabular: Number(row.tabular), ready: Number(row.ready), failed: Number(row.failed) };
  }
}
