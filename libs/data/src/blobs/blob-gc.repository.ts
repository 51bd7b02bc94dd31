import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, LessThan, type EntityManager } from 'typeorm';
import { BlobUploadEntity } from './blob-upload.entity';

/** Names the PostgreSQL advisory lock that one collection at a time holds, across replicas. */
export const GC_LOCK_NAME = 'trellis.data.blob-gc';

/** Gives a collection's lock back. */
export type Unlock = () => Promise<void>;

/** What garbage collection needs of the database beyond the blob records: its lock, dry runs, and counts of expired uploads. */
@Injectable()
export class BlobGcRepository {
  /** Whether a collection of this process holds the lock: SQLite has no other process to share it with. */
  private held = false;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes the lock of collections: in this process and, on PostgreSQL, a session advisory lock on
   * a connection of its own, which the server gives back if this process dies. Undefined while
   * another collection holds it.
   */
  async tryLock(): Promise<Unlock | undefined> {
    if (this.held) return undefined;
    this.held = true;
    let unlock: Unlock | undefined;
    try {
      unlock = Dialect.of(this.dataSource).isPostgres ? await this.advisoryLock() : async () => undefined;
    } finally {
      if (!unlock) this.held = false;
    }
    if (!unlock) return undefined;
    const release = unlock;
    return async () => {
      try {
        await release();
      } finally {
        this.held = false;
      }
    };
  }

  /** Runs `work` in a transaction that is then rolled back, whatever `work` wrote: a dry run's batch. */
  async rolledBack<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      return await work(runner.manager);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  /** How many uploads of each instance expired before `now`. */
  async expiredUploadCounts(now: number): Promise<Map<string, number>> {
    const rows: Array<{ storeName: string; count: string | number }> = await this.dataSource.transaction((tx) =>
      tx
        .createQueryBuilder(BlobUploadEntity, 'upload')
        .select('upload.storeName', 'storeName')
        .addSelect('COUNT(*)', 'count')
        .where({ expiresAt: LessThan(now) })
        .groupBy('upload.storeName')
        .getRawMany(),
    );
    return new Map(rows.map((row) => [row.storeName, Number(row.count)]));
  }

  private async advisoryLock(): Promise<Unlock | undefined> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [GC_LOCK_NAME])) as Array<{ locked: boolean }>;
      if (row?.locked) {
        return async () => {
          try {
            await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [GC_LOCK_NAME]);
          } finally {
            await runner.release();
          }
        };
      }
    } catch (error) {
      await runner.release();
      throw error;
    }
    await runner.release();
    return undefined;
  }
}
