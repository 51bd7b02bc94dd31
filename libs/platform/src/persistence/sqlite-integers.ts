import type { EntityManager } from 'typeorm';
import { sqliteHandle } from './sqlite-transactions';

interface RawStatement {
  readonly reader: boolean;
  safeIntegers(toggle: boolean): RawStatement;
  pluck(toggle: boolean): RawStatement;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

interface RawDatabase {
  prepare(sql: string): RawStatement;
}

/** Each patched connection's own `prepare`, for reads that need no exact integers. */
const plainPrepare = new WeakMap<RawDatabase, (sql: string) => RawStatement>();

/**
 * Makes a better-sqlite3 connection read 64-bit integers exactly. By default it turns every
 * INTEGER into a JavaScript number, silently rounding values beyond 2^53 (an int64 `size` of
 * 9007199254740993 reads back as ...992). After this, integers that fit a number still come back
 * as numbers, and larger ones as decimal strings, the form PostgreSQL's driver uses for bigint.
 */
export function readIntegersExactly(db: RawDatabase): void {
  const prepare = db.prepare.bind(db);
  plainPrepare.set(db, prepare);
  db.prepare = (sql: string) => {
    const statement = prepare(sql);
    // Only for statements that return rows: a writer's lastInsertRowid must stay a number for TypeORM.
    if (!statement.reader) return statement;
    statement.safeIntegers(true);
    const all = statement.all.bind(statement);
    const get = statement.get.bind(statement);
    const iterate = statement.iterate.bind(statement);
    statement.all = (...params) => all(...params).map(exactRow);
    statement.get = (...params) => exactRow(get(...params));
    statement.iterate = function* (...params) {
      for (const row of iterate(...params)) yield exactRow(row);
    };
    return statement;
  };
}

/**
 * The first column of the rows `sql` selects on the SQLite connection under `manager`, as one
 * array, with integers as plain numbers: for integer columns whose values were checked to be safe
 * integers when written (metric steps and timestamps). A BigInt per integer, then a number, and an
 * object per row are most of the cost of a read of tens of thousands of rows; one statement per
 * column costs a third of one statement of three columns. Run it inside a transaction of the
 * DataSource's, as the connection is shared: outside one it could see another caller's
 * uncommitted rows.
 */
export function sqliteColumn(manager: EntityManager, sql: string, params: readonly unknown[]): unknown[] {
  const db = sqliteHandle(manager.connection) as unknown as RawDatabase;
  const prepare = plainPrepare.get(db) ?? db.prepare.bind(db);
  return prepare(sql).pluck(true).all(...params);
}

function exactRow(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return exactValue(row);
  const values = row as Record<string, unknown>;
  for (const key of Object.keys(values)) values[key] = exactValue(values[key]);
  return values;
}

function exactValue(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}
