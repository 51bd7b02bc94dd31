import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';

/** The part of a better-sqlite3 `Database` the kit uses directly. */
export interface SqliteHandle {
  readonly inTransaction: boolean;
  prepare(sql: string): {
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): { changes: number };
  };
}

interface Serializer {
  tail: Promise<unknown>;
  inside: AsyncLocalStorage<true>;
}

const serializers = new WeakMap<DataSource, Serializer>();

/**
 * Makes `dataSource.transaction()` (and `dataSource.manager.transaction()`) run one at a time on a
 * better-sqlite3 DataSource. TypeORM gives every caller the same SQLite connection, so two
 * transactions started concurrently would otherwise become one transaction and a savepoint, and a
 * rollback of one would undo or keep the other's writes. A transaction started inside another one's
 * callback still nests (as a savepoint) instead of waiting for itself.
 */
export function serializeSqliteTransactions(dataSource: DataSource): void {
  if (serializers.has(dataSource)) return;
  const serializer: Serializer = { tail: Promise.resolve(), inside: new AsyncLocalStorage() };
  serializers.set(dataSource, serializer);
  const manager = dataSource.manager;
  const original = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  const serialized = (...args: unknown[]): Promise<unknown> => {
    if (serializer.inside.getStore()) return original(...args);
    const run = serializer.tail.then(() => inside(serializer, () => original(...args)));
    serializer.tail = run.catch(() => undefined);
    return run;
  };
  manager.transaction = serialized as EntityManager['transaction'];
}

/**
 * Runs one transaction with `serializer.inside` set, then switches the storage off: while any
 * AsyncLocalStorage is on, node tracks every promise of the process (a gRPC call that reads no
 * database paid for it too), and transactions run one at a time, so none is open once this one ends.
 */
async function inside<T>(serializer: Serializer, transaction: () => Promise<T>): Promise<T> {
  try {
    return await serializer.inside.run(true, transaction);
  } finally {
    serializer.inside.disable();
  }
}

/** The better-sqlite3 connection under a DataSource opened on SQLite. */
export function sqliteHandle(dataSource: DataSource): SqliteHandle {
  return (dataSource.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection;
}

/**
 * Runs `work` (synchronous SQL on the raw connection) at a moment when no transaction is open on
 * the shared connection, so it neither reads another caller's uncommitted rows nor has its writes
 * swept into (and possibly rolled back with) another caller's transaction.
 */
export async function runOutsideTransactions<T>(dataSource: DataSource, work: (db: SqliteHandle) => T): Promise<T> {
  const db = sqliteHandle(dataSource);
  for (;;) {
    await serializers.get(dataSource)?.tail;
    // better-sqlite3 is synchronous: nothing can open a transaction between this check and `work`.
    if (!db.inTransaction) return work(db);
    await sleep(2);
  }
}
