import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
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
   * Marks `sha256s` of the instance as referenced at `now`, in the caller's transaction: a commit
   * calls it in the transaction that writes its version, and garbage collection deletes only
   * blobs whose mark is older than its grace period, checked in its own transaction.
   */
  async touch(tx: EntityManager, storeName: string, sha256s: readonly string[], now: number): Promise<void> {
    if (sha256s.length === 0) return;
    const parameters = Dialect.of(tx).parameters();
    const at = parameters.bind(now);
    const sql = `UPDATE ${tableOf(tx, BlobEntity)} SET last_referenced_at = ${at} WHERE store_name = ${parameters.bind(storeName)} AND ${parameters.inList('sha256', sha256s)}`;
    await tx.query(sql, parameters.values);
  }
}
