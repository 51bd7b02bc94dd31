import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Creates the widgets table; the same migration runs on SQLite and PostgreSQL. */
export class CreateWidgets1764403200000 implements MigrationInterface {
  name = 'CreateWidgets1764403200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'widgets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'size', type: 'bigint' },
        ],
        uniques: [{ columnNames: ['project_id', 'name'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('widgets');
  }
}
