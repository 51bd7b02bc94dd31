interface RawStatement {
  readonly reader: boolean;
  safeIntegers(toggle: boolean): RawStatement;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

interface RawDatabase {
  prepare(sql: string): RawStatement;
}

/**
 * Makes a better-sqlite3 connection read 64-bit integers exactly. By default it turns every
 * INTEGER into a JavaScript number, silently rounding values beyond 2^53 (an int64 `size` of
 * 9007199254740993 reads back as ...992). After this, integers that fit a number still come back
 * as numbers, and larger ones as decimal strings, the form PostgreSQL's driver uses for bigint.
 */
export function readIntegersExactly(db: RawDatabase): void {
  const prepare = db.prepare.bind(db);
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
