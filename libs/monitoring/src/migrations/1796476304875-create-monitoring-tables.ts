import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The monitors table. Times are milliseconds since the epoch. The same migration runs on SQLite
 * and PostgreSQL; on PostgreSQL names compare byte by byte ("C"), as on SQLite, so
 * ListMonitors pages in the same order on both.
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
        ],
        // Also the index ListMonitors reads a project's page through, in name order.
        uniques: [{ name: 'monitors_project_name', columnNames: ['project_id', 'name'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('monitors');
  }
}
