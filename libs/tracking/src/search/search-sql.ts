import type { DataSource } from 'typeorm';
import { escapedLikePattern, globPattern } from '@trellis/platform';
import type { ComparisonOperator } from './search-grammar';

/** The two databases a search runs on. */
export type SqlDialect = 'postgres' | 'sqlite';

/** The dialect of an open DataSource (PostgreSQL in distributed mode, better-sqlite3 standalone). */
export function dialectOf(dataSource: DataSource): SqlDialect {
  const type = dataSource.options.type;
  if (type === 'postgres') return 'postgres';
  if (type === 'better-sqlite3') return 'sqlite';
  throw new Error(`search does not support the ${type} driver`);
}

/** A statement and the values bound to its placeholders, in order. */
export interface BoundSql {
  sql: string;
  /** Strings, numbers, and on PostgreSQL arrays of them. */
  parameters: unknown[];
}

/**
 * How many EXISTS subqueries of one statement PostgreSQL may turn into semi-joins. Its planner
 * weighs every order of the joins, and subqueries that all join on the same id can go in any
 * order: planning took 20 ms for 4 of them, 1.4 s for 8 and 50 s for 40 (on a loaded 2-core machine).
 */
const PLANNED_SUBQUERIES = 4;

/**
 * Hands out placeholders (`$1` on PostgreSQL, `?` on SQLite) and keeps the values, so that no
 * user text ever becomes SQL. SQLite's placeholders are positional: bind in the order the
 * fragments appear in the statement.
 */
export class SqlParameters {
  readonly values: unknown[] = [];
  private subqueries = 0;

  constructor(readonly dialect: SqlDialect) {}

  /**
   * `EXISTS (<select>)`. On PostgreSQL those after the first PLANNED_SUBQUERIES are fenced with
   * OFFSET 0, which keeps the planner from making joins of them: they filter row by row, and a
   * long filter plans in time linear in its length.
   */
  exists(select: string): string {
    this.subqueries += 1;
    const fence = this.dialect === 'postgres' && this.subqueries > PLANNED_SUBQUERIES ? ' OFFSET 0' : '';
    return `EXISTS (${select}${fence})`;
  }

  bind(value: string | number): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }

  /** `column` in (or not in) `values`, bound as one parameter whatever the list's length. */
  inList(column: string, values: ReadonlyArray<string | number>, negate: boolean): string {
    if (this.dialect === 'postgres') {
      // A JS array binds as a PostgreSQL array of the column's type.
      this.values.push(values);
      return negate ? `${column} <> ALL($${this.values.length})` : `${column} = ANY($${this.values.length})`;
    }
    return `${column} ${negate ? 'NOT IN' : 'IN'} (SELECT value FROM json_each(${this.bind(JSON.stringify(values))}))`;
  }

  /** `column` compared to a bound value. LIKE is case-sensitive and ILIKE not, on both dialects. */
  compare(column: string, op: ComparisonOperator, value: string | number | string[]): string {
    if (op === 'IN' || op === 'NOT IN') return this.inList(column, value as string[], op === 'NOT IN');
    if (op === 'LIKE') {
      return this.dialect === 'postgres'
        ? `${column} LIKE ${this.bind(escapedLikePattern(String(value)))}`
        : `${column} GLOB ${this.bind(globPattern(String(value)))}`;
    }
    if (op === 'ILIKE') {
      return this.dialect === 'postgres'
        ? `${column} ILIKE ${this.bind(escapedLikePattern(String(value)))}`
        : `${column} LIKE ${this.bind(escapedLikePattern(String(value)))} ESCAPE '\\'`;
    }
    return `${column} ${op === '!=' ? '<>' : op} ${this.bind(value as string | number)}`;
  }

  /** A text column as an order key: byte order on both dialects (SQLite's BINARY, PostgreSQL's "C"). */
  textOrder(column: string): string {
    return this.dialect === 'postgres' ? `${column} COLLATE "C"` : column;
  }
}

/** `ASC` or `DESC`. */
export function direction(ascending: boolean): string {
  return ascending ? 'ASC' : 'DESC';
}
