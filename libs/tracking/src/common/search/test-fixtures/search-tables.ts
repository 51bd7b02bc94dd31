import { Dialect, openDatabase, type DatabaseConfig } from '@trellis/platform';
import type { DataSource } from 'typeorm';
import { CreateMetricTables1767500001000 } from '../../../migrations/1767500001000-create-metric-tables';
import { CreateTrackingTables1767500000000 } from '../../../migrations/1767500000000-create-tracking-tables';

/** Opens a tracking database with the tables searches read (runs and what they log, metric series, experiments). */
export function openSearchDatabase(database: DatabaseConfig): Promise<DataSource> {
  return openDatabase({ service: 'tracking', database, migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000] });
}

/** Inserts one row with bound values, in either dialect. */
export async function insertRow(dataSource: DataSource, table: string, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  const dialect = Dialect.of(dataSource);
  const placeholders = columns.map((_, index) => dialect.placeholder(index + 1));
  // better-sqlite3 binds no booleans.
  const values = columns.map((column) => (typeof row[column] === 'boolean' && !dialect.isPostgres ? Number(row[column]) : row[column]));
  await dataSource.query(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders.join(', ')})`, values);
}
