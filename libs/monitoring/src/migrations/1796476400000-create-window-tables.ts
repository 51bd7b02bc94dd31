import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The windows feature's tables: each monitor's stream state (the next row number, the next window
 * to close), the packed chunks of rows that open windows still need, the scored windows and their
 * per-column results. Times are milliseconds since the epoch.
 */
export class CreateWindowTables1796476400000 implements MigrationInterface {
  name = 'CreateWindowTables1796476400000';

  async up(runner: QueryRunner): Promise<void> {
    const dialect = Dialect.of(runner);
    const collation = dialect.binaryCollation;
    await runner.createTable(
      new Table({
        name: 'monitor_streams',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          // The number the next row consumed gets, from 1.
          { name: 'next_seq', type: 'bigint' },
          // The number of the next window to close, from 1.
          { name: 'next_window', type: 'bigint' },
          // Time windows: the start of the next window to close; -1 before the first row.
          { name: 'next_start_ms', type: 'bigint' },
          // Time windows: the latest answer time consumed.
          { name: 'watermark_ms', type: 'bigint' },
          // The columns rows are read into while a log-window reference fills (JSON), '[]' otherwise.
          { name: 'columns', type: 'text' },
          { name: 'skipped_rows', type: 'bigint' },
          { name: 'late_rows', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'monitor_chunks',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'first_seq', type: 'bigint', isPrimary: true },
          { name: 'row_count', type: 'integer' },
          // The latest answer time of its rows: a time window past it no longer needs the chunk.
          { name: 'last_answered_ms', type: 'bigint' },
          { name: 'payload', type: dialect.isPostgres ? 'bytea' : 'blob' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'monitor_windows',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'number', type: 'bigint', isPrimary: true },
          { name: 'start_ms', type: 'bigint' },
          { name: 'end_ms', type: 'bigint' },
          { name: 'rows', type: 'bigint' },
          { name: 'first_seq', type: 'bigint' },
          { name: 'last_seq', type: 'bigint' },
          { name: 'drifted_columns', type: 'integer' },
          { name: 'drift_share', type: 'double precision' },
          { name: 'dataset_drift', type: 'boolean' },
          { name: 'closed_at', type: 'bigint' },
          { name: 'revision_ids', type: 'text' },
        ],
        // ListWindowResults' time range.
        indices: [{ name: 'monitor_windows_closed', columnNames: ['monitor_id', 'closed_at'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'monitor_column_results',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'window_number', type: 'bigint', isPrimary: true },
          // The column's place among the monitor's columns, so results read back in that order.
          { name: 'position', type: 'integer', isPrimary: true },
          { name: 'column', type: 'varchar', length: '256', collation },
          { name: 'detector', type: 'varchar', length: '128' },
          { name: 'p_value', type: 'boolean' },
          { name: 'statistic', type: 'double precision' },
          { name: 'value', type: 'double precision' },
          { name: 'threshold', type: 'double precision' },
          { name: 'drifted', type: 'boolean' },
          { name: 'rows', type: 'bigint' },
          { name: 'missing_rate', type: 'double precision' },
          { name: 'error', type: 'text' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('monitor_column_results');
    await runner.dropTable('monitor_windows');
    await runner.dropTable('monitor_chunks');
    await runner.dropTable('monitor_streams');
  }
}
