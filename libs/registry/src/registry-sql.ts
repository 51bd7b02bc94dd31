import { InvalidArgumentError } from '@trellis/platform';
import type { DataSource } from 'typeorm';

/** The SQL dialects the registry's hand-written queries are written for. */
export type Dialect = 'postgres' | 'sqlite';

export function dialectOf(dataSource: DataSource): Dialect {
  return dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/** Parameters of one query, bound in order with the dialect's placeholders (`$1` or `?`). */
export class SqlParameters {
  readonly values: unknown[] = [];

  constructor(readonly dialect: Dialect) {}

  bind(value: unknown): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }

  /** `column` is one of `values` (which must not be empty). */
  oneOf(column: string, values: readonly unknown[]): string {
    if (this.dialect === 'postgres') return `${column} = ANY(${this.bind(values)})`;
    return `${column} IN (${values.map((value) => this.bind(value)).join(', ')})`;
  }
}

/** The position a page token continues after: a JSON array of `length` strings and numbers. */
export function positionOf(position: string | undefined, length = 2): Array<string | number> | undefined {
  if (position === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(position);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== length || !parsed.every((part) => typeof part === 'string' || Number.isSafeInteger(part))) {
    throw new InvalidArgumentError('is not a token a previous page of this list returned', 'page_token');
  }
  return parsed as Array<string | number>;
}
