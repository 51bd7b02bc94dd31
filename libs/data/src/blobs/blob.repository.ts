import { Injectable } from '@nestjs/common';
import { Dialect, FailedPreconditionError, tableOf } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { BlobEntity } from './blob.entity';
import { ProjectBlobEntity } from './project-blob.entity';

/** A blob a project holds, by digest. */
export interface HeldBlob {
  projectId: string;
  sha256: string;
}

/** Reads and writes the record of stored blobs; the only part of the feature that knows the database. */
@Injectable()
export class BlobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Which of `sha256s` the project holds in the instance `storeName`, read in one statement whatever their number. */
  async heldOf(projectId: string, storeName: string, sha256s: readonly string[], tx?: EntityManager): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const read = async (manager: EntityManager) => {
      const parameters = Dialect.of(manager).parameters();
      const sql = `SELECT sha256 FROM ${tableOf(manager, ProjectBlobEntity)} WHERE project_id = ${parameters.bind(projectId)} AND store_name = ${parameters.bind(storeName)} AND ${parameters.inList('sha256', sha256s)}`;
      const rows: Array<{ sha256: string }> = await manager.query(sql, parameters.values);
      return new Set(rows.map((row) => row.sha256));
    };
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return tx ? read(tx) : this.transaction(read);
  }

  /** The record of one blob of the instance, whoever holds it, or null: only for storing bytes once, never to answer a project. */
  find(storeName: string, sha256: string): Promise<BlobEntity | null> {
    return this.transaction((tx) => tx.findOneBy(BlobEntity, { storeName, sha256 }));
  }

  /** The record of one blob if the project holds it in the instance, or null. */
  findHeld(projectId: string, storeName: string, sha256: string): Promise<BlobEntity | null> {
    return this.transaction(async (tx) => ((await tx.findOneBy(ProjectBlobEntity, { projectId, storeName, sha256 })) ? tx.findOneBy(BlobEntity, { storeName, sha256 }) : null));
  }

  /**
   * Records a blob as stored and held by the project; rows already there keep their creation
   * time, their reference time moved to `now`.
   */
  async record(tx: EntityManager, projectId: string, storeName: string, sha256: string, size: number, now: number): Promise<void> {
    const dialect = Dialect.of(tx);
    const blob = dialect.upsert(tableOf(tx, BlobEntity), ['store_name', 'sha256', 'size', 'created_at', 'last_referenced_at'], 1, ['store_name', 'sha256'], ['last_referenced_at = excluded.last_referenced_at']);
    await tx.query(blob, [storeName, sha256, size, now, now]);
    const held = dialect.upsert(tableOf(tx, ProjectBlobEntity), ['project_id', 'store_name', 'sha256', 'created_at', 'last_referenced_at'], 1, ['project_id', 'store_name', 'sha256'], ['last_referenced_at = excluded.last_referenced_at']);
    await tx.query(held, [projectId, storeName, sha256, now, now]);
  }

  /**
   * Marks `sha256s` of the instance, and the project's rows of them, as referenced at `now`, in the
   * caller's transaction, and throws FAILED_PRECONDITION (BLOBS_MISSING) when some are no longer
   * recorded or held: a commit calls it in the transaction that writes its version, and garbage
   * collection deletes only rows whose mark is older than its grace period, so either the
   * collection's delete saw this mark (PostgreSQL makes it wait for this transaction's row locks)
   * or this call sees the row gone and the commit fails.
   */
  async touch(tx: EntityManager, projectId: string, storeName: string, sha256s: readonly string[], now: number): Promise<void> {
    const unique = [...new Set(sha256s)];
    if (unique.length === 0) return;
    const blobs = Dialect.of(tx).parameters();
    const marked = `UPDATE ${tableOf(tx, BlobEntity)} SET last_referenced_at = ${blobs.bind(now)} WHERE store_name = ${blobs.bind(storeName)} AND ${blobs.inList('sha256', unique)} RETURNING sha256`;
    const stored = new Set(rowsOf<{ sha256: string }>(await tx.query(marked, blobs.values)).map((row) => row.sha256));
    const held = Dialect.of(tx).parameters();
    const heldMarked =
      `UPDATE ${tableOf(tx, ProjectBlobEntity)} SET last_referenced_at = ${held.bind(now)} ` +
      `WHERE project_id = ${held.bind(projectId)} AND store_name = ${held.bind(storeName)} AND ${held.inList('sha256', unique)} RETURNING sha256`;
    const found = new Set(rowsOf<{ sha256: string }>(await tx.query(heldMarked, held.values)).map((row) => row.sha256));
    const gone = unique.filter((sha256) => !stored.has(sha256) || !found.has(sha256));
    if (gone.length === 0) return;
    throw new FailedPreconditionError(`${gone.length} blobs were removed by garbage collection while the commit ran (${gone.slice(0, 5).join(', ')}); upload them again`, { reason: 'BLOBS_MISSING' });
  }

  /** The instances that hold recorded blobs. */
  storeNames(): Promise<string[]> {
    return this.transaction(async (tx) => ((await tx.query(`SELECT DISTINCT store_name FROM ${tableOf(tx, BlobEntity)}`)) as Array<{ store_name: string }>).map((row) => row.store_name));
  }

  /** Up to `limit` digests of the instance last referenced before `cutoff`, in digest order after `after`. */
  async unreferencedSince(storeName: string, cutoff: number, after: string, limit: number): Promise<string[]> {
    return this.transaction(async (tx) => {
      const parameters = Dialect.of(tx).parameters();
      const sql = `SELECT sha256 FROM ${tableOf(tx, BlobEntity)} WHERE store_name = ${parameters.bind(storeName)} AND last_referenced_at < ${parameters.bind(cutoff)} AND sha256 > ${parameters.bind(after)} ORDER BY sha256 LIMIT ${limit}`;
      return ((await tx.query(sql, parameters.values)) as Array<{ sha256: string }>).map((row) => row.sha256);
    });
  }

  /** Deletes the records of `sha256s` still last referenced before `cutoff`, in `tx`; answers those deleted, with their sizes. */
  async deleteUnreferenced(tx: EntityManager, storeName: string, sha256s: readonly string[], cutoff: number): Promise<Array<{ sha256: string; size: number }>> {
    if (sha256s.length === 0) return [];
    const parameters = Dialect.of(tx).parameters();
    const sql = `DELETE FROM ${tableOf(tx, BlobEntity)} WHERE store_name = ${parameters.bind(storeName)} AND ${parameters.inList('sha256', sha256s)} AND last_referenced_at < ${parameters.bind(cutoff)} RETURNING sha256, size`;
    const deleted = rowsOf<{ sha256: string; size: string | number }>(await tx.query(sql, parameters.values)).map((row) => ({ sha256: row.sha256, size: Number(row.size) }));
    if (deleted.length > 0) {
      // No project holds bytes that are gone, however recently it named them.
      const held = Dialect.of(tx).parameters();
      await tx.query(`DELETE FROM ${tableOf(tx, ProjectBlobEntity)} WHERE store_name = ${held.bind(storeName)} AND ${held.inList('sha256', deleted.map((blob) => blob.sha256))}`, held.values);
    }
    return deleted;
  }

  /**
   * Up to `limit` rows of projects holding blobs of the instance, last referenced before `cutoff`,
   * in (project, digest) order after `after`.
   */
  async heldUnreferencedSince(storeName: string, cutoff: number, after: HeldBlob, limit: number): Promise<HeldBlob[]> {
    return this.transaction(async (tx) => {
      const parameters = Dialect.of(tx).parameters();
      const sql =
        `SELECT project_id, sha256 FROM ${tableOf(tx, ProjectBlobEntity)} WHERE store_name = ${parameters.bind(storeName)} AND last_referenced_at < ${parameters.bind(cutoff)} ` +
        `AND (project_id > ${parameters.bind(after.projectId)} OR (project_id = ${parameters.bind(after.projectId)} AND sha256 > ${parameters.bind(after.sha256)})) ORDER BY project_id, sha256 LIMIT ${limit}`;
      return ((await tx.query(sql, parameters.values)) as Array<{ project_id: string; sha256: string }>).map((row) => ({ projectId: row.project_id, sha256: row.sha256 }));
    });
  }

  /** Deletes the project's rows of `sha256s` still last referenced before `cutoff`, in `tx`; answers how many went. */
  async deleteHeldUnreferenced(tx: EntityManager, projectId: string, storeName: string, sha256s: readonly string[], cutoff: number): Promise<number> {
    if (sha256s.length === 0) return 0;
    const parameters = Dialect.of(tx).parameters();
    const sql =
      `DELETE FROM ${tableOf(tx, ProjectBlobEntity)} WHERE project_id = ${parameters.bind(projectId)} AND store_name = ${parameters.bind(storeName)} ` +
      `AND ${parameters.inList('sha256', sha256s)} AND last_referenced_at < ${parameters.bind(cutoff)} RETURNING sha256`;
    return rowsOf<{ sha256: string }>(await tx.query(sql, parameters.values)).length;
  }
}

/** The rows of an UPDATE or DELETE with RETURNING: TypeORM's PostgreSQL driver answers `[rows, count]`, SQLite's the rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
