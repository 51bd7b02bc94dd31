import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The monitors table and their fitted references. Times are milliseconds since the epoch. The
 * same migration runs on SQLite and PostgreSQL; on PostgreSQL names compare byte by byte ("C"),
 * as on SQLite, so ListMonitors pages in the same order on both.
 */
export class CreateMonitoringTables1796476304875 implements MigrationInterface {
  name = 'CreateMonitoringTables1796476304875';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'monitors',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64', collation },
          { name: 'name', type: 'varchar', length: '128', collation },
          { name: 'description', type: 'text' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'endpoint_name', type: 'varchar', length: '128', collation },
          { name: 'reference', type: 'text' },
          { name: 'window_rows', type: 'bigint' },
          { name: 'window_seconds', type: 'bigint' },
          { name: 'window_slide', type: 'bigint' },
          { name: 'requested_columns', type: 'text' },
          { name: 'tensor_columns', type: 'text' },
          { name: 'detectors', type: 'text' },
          { name: 'drift_share', type: 'double precision' },
          { name: 'performance', type: 'text', isNullable: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'state_message', type: 'text' },
          { name: 'monitored_columns', type: 'text' },
          { name: 'windows_closed', type: 'bigint' },
        ],
        // Also the index ListMonitors reads a project's page through, in name order.
        uniques: [{ name: 'monitors_project_name', columnNames: ['project_id', 'name'] }],
        // The monitors of an endpoint, which its prediction logs fill.
        indices: [{ name: 'monitors_endpoint', columnNames: ['project_id', 'endpoint_name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'monitor_references',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'column', type: 'varchar', length: '256', isPrimary: true, collation },
          { name: 'detector', type: 'varchar', length: '128' },
          { name: 'fitted', type: 'text' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('monitor_references');
    await runner.dropTable('monitors');
  }
}
