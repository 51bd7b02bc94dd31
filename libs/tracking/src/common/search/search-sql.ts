import { SqlParameters } from '@trellis/platform';
import type { ComparisonOperator } from './search-grammar';

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
 * The kit's bound parameters with what a search's SELECT adds: comparisons by the search
 * grammar's operators, EXISTS subqueries, and text order keys. No user text ever becomes SQL.
 */
export class SearchParameters extends SqlParameters {
  private subqueries = 0;

  /**
   * `EXISTS (<select>)`. On PostgreSQL those after the first PLANNED_SUBQUERIES are fenced with
   * OFFSET 0, which keeps the planner from making joins of them: they filter row by row, and a
   * long filter plans in time linear in its length. SQLite's planner needs no fence.
   */
  exists(select: string): string {
    this.subqueries += 1;
    const fence = this.dialect.isPostgres && this.subqueries > PLANNED_SUBQUERIES ? ' OFFSET 0' : '';
    return `EXISTS (${select}${fence})`;
  }

  /** `column` compared to a bound value. LIKE is case-sensitive and ILIKE not, on both dialects. */
  compare(column: string, op: ComparisonOperator, value: string | number | string[]): string {
    if (op === 'IN' || op === 'NOT IN') return this.inList(column, value as string[], op === 'NOT IN');
    if (op === 'LIKE') return this.like(column, String(value));
    if (op === 'ILIKE') return this.ilike(column, String(value));
    return `${column} ${op === '!=' ? '<>' : op} ${this.bind(value)}`;
  }

  /** A text column as an order key: byte order on both dialects. */
  textOrder(column: string): string {
    const collation = this.dialect.binaryCollation;
    return collation ? `${column} COLLATE "${collation}"` : column;
  }
}

/** `ASC` or `DESC`. */
export function direction(ascending: boolean): string {
  return ascending ? 'ASC' : 'DESC';
}
