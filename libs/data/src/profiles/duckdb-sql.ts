import type { DuckDBConnection } from '@duckdb/node-api';

/** A result row as DuckDB's JS conversion gives it (BIGINT and HUGEINT as bigint). */
export type Row = Record<string, unknown>;

export const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
/** A double as SQL, exactly (JS's shortest round-tripping form). */
export const double = (n: number): string => `${literal(String(n))}::DOUBLE`;
export const num = (v: unknown): number => Number(v);

export async function rows(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Row[];
}
