import { Dialect } from '@trellis/platform';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The datasets table. Times are milliseconds since the epoch. The same migration runs on SQLite
 * and PostgreSQL; on PostgreSQL names compare byte by byte ("C"), as on SQLite, so
 * ListDatasets pages in the same order on both. A deleted dataset keeps its row (its versions'
 * files stay until garbage collection) but frees its name: the name is unique among live ones.
 */
export class CreateDataTables1796437705052 implements MigrationInterface {
  name = 'CreateDataTables1796437705052';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'datasets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64', collation },
          { name: 'name', type: 'varchar', length: '128', collation },
          { name: 'description', type: 'text' },
          // A JSON array of {key, value}: read and written whole, never queried.
          { name: 'tags', type: 'text', default: "'[]'" },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          // The highest version number ever given in the dataset: numbers are never reused.
          { name: 'last_version', type: 'bigint', default: 0 },
          { name: 'deleted_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    // Also the index ListDatasets reads a project's page through, in name order.
    await runner.createIndex('datasets', new TableIndex({ name: 'datasets_project_name', columnNames: ['project_id', 'name'], isUnique: true, where: 'deleted_at IS NULL' }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('datasets');
  }
}
