import type { DataSource, EntityManager, EntityTarget, FindOneOptions, ObjectLiteral, QueryRunner } from 'typeorm';
import { escapedLikePattern, globPattern } from './like-pattern';

/** The databases the kit runs on: PostgreSQL (distributed) and SQLite through better-sqlite3 (standalone). */
export type DialectName = 'postgres' | 'sqlite';

/** Anything that knows its connection: a DataSource, an EntityManager or a QueryRunner. */
export type Connected = DataSource | EntityManager | QueryRunner;

/**
 * Everything that differs between SQLite and PostgreSQL in the SQL a repository writes:
 * placeholders, lists, case-sensitive LIKE, JSON aggregation, LEAST/GREATEST, row locks, and the
 * column types and collations of migrations. Repositories (and migrations) are the only code that
 * asks; nothing else branches on the database.
 */
export class Dialect {
  private static readonly postgresDialect = new Dialect('postgres');
  private static readonly sqliteDialect = new Dialect('sqlite');

  private constructor(readonly name: DialectName) {}

  /** The dialect of a connection; throws for a driver the kit does not run on. */
  static of(connected: Connected): Dialect {
    const type = connectionOf(connected).options.type;
    if (type === 'postgres') return Dialect.postgresDialect;
    if (type === 'better-sqlite3') return Dialect.sqliteDialect;
    throw new Error(`Trellis does not run on the ${type} driver: use postgres or better-sqlite3`);
  }

  get isPostgres(): boolean {
    return this.name === 'postgres';
  }

  /** A fresh set of bound parameters for one statement. */
  parameters(): SqlParameters {
    return new SqlParameters(this);
  }

  /** The placeholder of the `index`th (1-based) parameter: `$1` or `?`. */
  placeholder(index: number): string {
    return this.isPostgres ? `$${index}` : '?';
  }

  /** `LEAST(a, b)`: SQLite's two-argument `min` is the same scalar function. */
  least(a: string, b: string): string {
    return this.isPostgres ? `LEAST(${a}, ${b})` : `min(${a}, ${b})`;
  }

  /** `GREATEST(a, b)`: SQLite's two-argument `max`. */
  greatest(a: string, b: string): string {
    return this.isPostgres ? `GREATEST(${a}, ${b})` : `max(${a}, ${b})`;
  }

  /**
   * A JSON array (as text) of `expression` over the group, in `orderBy` order (compared byte by
   * byte on PostgreSQL, as SQLite does): one row per group instead of one per element.
   */
  jsonArrayAgg(expression: string, orderBy?: string): string {
    if (this.isPostgres) return `json_agg(${expression}${orderBy ? ` ORDER BY ${orderBy} COLLATE "C"` : ''})::text`;
    // SQLite aggregates in the order rows arrive; the caller orders them in a subquery.
    return `json_group_array(${expression})`;
  }

  /** A JSON array of its arguments: `json_build_array` or `json_array`. */
  jsonArray(...expressions: string[]): string {
    return `${this.isPostgres ? 'json_build_array' : 'json_array'}(${expressions.join(', ')})`;
  }

  /**
   * Find options that lock the row read until the transaction ends. SQLite runs one write
   * transaction at a time, so there is nothing to lock.
   */
  lockForUpdate<T extends ObjectLiteral>(): Pick<FindOneOptions<T>, 'lock'> {
    return this.isPostgres ? { lock: { mode: 'pessimistic_write' } } : {};
  }

  /** ` FOR UPDATE` for a hand-written SELECT, or nothing on SQLite. */
  get forUpdate(): string {
    return this.isPostgres ? ' FOR UPDATE' : '';
  }

  /** The column type of an instant in migrations: `timestamptz`, SQLite's `datetime`. */
  get timestampType(): string {
    return this.isPostgres ? 'timestamptz' : 'datetime';
  }

  /**
   * The collation under which text compares byte by byte (names, keys, page positions): `C` on
   * PostgreSQL; undefined on SQLite, whose default (BINARY) already does.
   */
  get binaryCollation(): string | undefined {
    return this.isPostgres ? 'C' : undefined;
  }

  /**
   * `INSERT INTO table (columns) VALUES (...) ON CONFLICT (conflict) DO UPDATE SET ...`, the same
   * on both (SQLite 3.24+). Each update is `column = expression`, where `excluded.<column>` is the
   * row that was refused. Without updates, a conflicting row is left as it is.
   */
  upsert(table: string, columns: readonly string[], rows: number, conflict: readonly string[], updates: readonly string[] = []): string {
    let next = 0;
    const row = () => `(${columns.map(() => this.placeholder(++next)).join(', ')})`;
    const values = Array.from({ length: rows }, row).join(', ');
    const action = updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ON CONFLICT (${conflict.join(', ')}) ${action}`;
  }

  /**
   * The dialect of that name, for SQL built apart from any connection (a query builder's unit
   * spec); code that has a connection asks {@link Dialect.of}.
   */
  static named(name: DialectName): Dialect {
    return name === 'postgres' ? Dialect.postgresDialect : Dialect.sqliteDialect;
  }

  /**
   * Float `a` is below `b` in PostgreSQL's order of floats, where NaN is above every number. SQLite
   * stores NaN as NULL, so there a NULL stands for NaN.
   */
  floatBelow(a: string, b: string): string {
    return this.isPostgres ? `${a} < ${b}` : `(${a} < ${b} OR (${b} IS NULL AND ${a} IS NOT NULL))`;
  }

  /** Float `a` is above `b`, NaN above every number (NULL standing for NaN on SQLite). */
  floatAbove(a: string, b: string): string {
    return this.isPostgres ? `${a} > ${b}` : `(${a} > ${b} OR (${a} IS NULL AND ${b} IS NOT NULL))`;
  }

  /**
   * Numeric `column` as a value to compare, never a way into an index: SQLite keeps no statistics unless
   * analysed, and would range-scan an index on the value across every row where an index on the
   * row's key finds one row (`+column` is its idiom to rule an index out); PostgreSQL weighs both
   * with its statistics, so the column is left as it is there. (Not for text: `+` would change how
   * SQLite compares it.)
   */
  valueOnly(column: string): string {
    return this.isPostgres ? column : `+${column}`;
  }

  /** Float `column` holds a number, not NaN (which SQLite stores as NULL). */
  isNumber(column: string): string {
    return this.isPostgres ? `${column} <> 'NaN'::float8` : `${column} IS NOT NULL`;
  }

  /**
   * Order terms for a float `column` of an outer join: its numbers in the direction asked, then NaN,
   * then rows the join found nothing for (`absent` holds for those), in either direction.
   */
  nanLastOrder(column: string, ascending: boolean, absent: string): string {
    // PostgreSQL sorts NaN above every number, and -NaN is NaN: descending is the negation ascending.
    if (this.isPostgres) return `${ascending ? column : `(-${column})`} ASC NULLS LAST`;
    return `${absent}, ${column} ${ascending ? 'ASC' : 'DESC'} NULLS LAST`;
  }

  /**
   * `select` as the FROM source of a {@link jsonArrayAgg}, its rows in `orderBy` order where the
   * dialect needs it: SQLite aggregates rows in the order they arrive, while PostgreSQL orders
   * inside the aggregate and would only pay for a second sort. Give it an alias.
   */
  aggregateInput(select: string, orderBy: string): string {
    return this.isPostgres ? `(${select})` : `(${select} ORDER BY ${orderBy})`;
  }
}

/**
 * The values bound to one statement's placeholders, in order. SQLite's placeholders are
 * positional: bind in the order the fragments appear in the statement.
 */
export class SqlParameters {
  readonly values: unknown[] = [];

  constructor(readonly dialect: Dialect) {}

  /** Binds a value and returns its placeholder; bigints go to PostgreSQL as text (pg has no bigint type). */
  bind(value: unknown): string {
    this.values.push(typeof value === 'bigint' && this.dialect.isPostgres ? value.toString() : value);
    return this.dialect.placeholder(this.values.length);
  }

  /**
   * `column` is (or, negated, is not) one of `values`, bound as one parameter whatever their number
   * (SQLite binds at most 32,766 values a statement; a page may hold 50,000 ids).
   */
  inList(column: string, values: ReadonlyArray<string | number>, negate = false): string {
    if (this.dialect.isPostgres) {
      // A JS array binds as a PostgreSQL array of the column's type.
      const placeholder = this.bind(values);
      return negate ? `${column} <> ALL(${placeholder})` : `${column} = ANY(${placeholder})`;
    }
    return `${column} ${negate ? 'NOT IN' : 'IN'} (SELECT value FROM json_each(${this.bind(JSON.stringify(values))}))`;
  }

  /**
   * `column` matches a client's LIKE pattern (`%`, `_`, backslash escapes), case-sensitively on
   * both: PostgreSQL's LIKE, SQLite's GLOB (its LIKE ignores case).
   */
  like(column: string, pattern: string): string {
    return this.dialect.isPostgres ? `${column} LIKE ${this.bind(escapedLikePattern(pattern))} ESCAPE '\\'` : `${column} GLOB ${this.bind(globPattern(pattern))}`;
  }

  /** `column` matches a LIKE pattern ignoring case: ILIKE, or SQLite's LIKE (ASCII case only). */
  ilike(column: string, pattern: string): string {
    const bound = this.bind(escapedLikePattern(pattern));
    return this.dialect.isPostgres ? `${column} ILIKE ${bound} ESCAPE '\\'` : `${column} LIKE ${bound} ESCAPE '\\'`;
  }
}

/** The escaped, schema-qualified table of an entity, for hand-written SQL. */
export function tableOf(connected: Connected, entity: EntityTarget<ObjectLiteral>): string {
  const connection = connectionOf(connected);
  const metadata = connection.getMetadata(entity);
  const table = connection.driver.escape(metadata.tableName);
  return metadata.schema ? `${connection.driver.escape(metadata.schema)}.${table}` : table;
}

function connectionOf(connected: Connected): DataSource {
  return 'connection' in connected ? connected.connection : connected;
}
