import { Injectable } from '@nestjs/common';
import { Dialect, FailedPreconditionError, tableOf } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { BlobEntity } from './blob.entity';

/** Reads and writes the record of stored blobs; the only part of the feature that knows the database. */
@Injectable()
export class BlobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Which of `sha256s` the instance `storeName` holds, read in one statement whatever their number. */
  async storedOf(storeName: string, sha256s: readonly string[], tx?: EntityManager): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const read = async (manager: EntityManager) => {
      const parameters = Dialect.of(manager).parameters();
      const sql = `SELECT sha256 FROM ${tableOf(manager, BlobEntity)} WHERE store_name = ${parameters.bind(storeName)} AND ${parameters.inList('sha256', sha256s)}`;
      const rows: Array<{ sha256: string }> = await manager.query(sql, parameters.values);
      return new Set(rows.map((row) => row.sha256));
    };
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return tx ? read(tx) : this.transaction(read);
  }

  /** The record of one blob, or null. */
  find(storeName: string, sha256: string): Promise<BlobEntity | null> {
    return this.transaction((tx) => tx.findOneBy(BlobEntity, { storeName, sha256 }));
  }

  /** Records a blob as stored; a blob already recorded keeps its row, its reference time moved to `now`. */
  async record(tx: EntityManager, storeName: string, sha256: string, size: number, now: number): Promise<void> {
    const dialect = Dialect.of(tx);
    const sql = dialect.upsert(tableOf(tx, BlobEntity), ['store_name', 'sha256', 'size', 'created_at', 'last_referenced_at'], 1, ['store_name', 'sha256'], ['last_referenced_at = excluded.last_referenced_at']);
    await tx.query(sql, [storeName, sha256, size, now, now]);
  }

  /**
   * Marks `sha256s` of the instance as referenced at `now`, in the caller's transaction, and throws
   * FAILED_PRECONDITION (BLOBS_MISSING) when some are no longer recorded: a commit calls it in the
   * transaction that writes its version, and garbage collection deletes only rows whose mark is
   * older than its grace period, so either the collection's delete saw this mark (PostgreSQL makes
   * it wait for this transaction's row locks) or this call sees the row gone and the commit fails.
   */
  async touch(tx: EntityManager, storeName: string, sha256s: readonly string[], now: number): Promise<void> {
    const unique = [...new Set(sha256s)];
    if (unique.length === 0) return;
    const parameters = Dialect.of(tx).parameters();
    const at = parameters.bind(now);
    const sql = `UPDATE ${tableOf(tx, BlobEntity)} SET last_referenced_at = ${at} WHERE store_name = ${parameters.bind(storeName)} AND ${parameters.inList('sha256', unique)} RETURNING sha256`;
    const touched = rowsOf<{ sha256: string }>(await tx.query(sql, parameters.values));
    if (touched.length === unique.length) return;
    const found = new Set(touched.map((row) => row.sha256));
    const gone = unique.filter((sha256) => !found.has(sha256));
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
    return rowsOf<{ sha256: string; size: string | number }>(await tx.query(sql, parameters.values)).map((row) => ({ sha256: row.sha256, size: Number(row.size) }));
  }
}

/** The rows of an UPDATE or DELETE with RETURNING: TypeORM's PostgreSQL driver answers `[rows, count]`, SQLite's the rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
