import { Dialect } from '@trellis/platform';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The lineage tables: nodes by resource name with their project, and edges from used to
 * produced. The edges' primary key (source, target) walks downstream; the index (target, source)
 * walks upstream. Times are milliseconds since the epoch. Names compare byte by byte on both.
 */
export class CreateLineageTables1796470000000 implements MigrationInterface {
  name = 'CreateLineageTables1796470000000';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'lineage_nodes',
        columns: [
          { name: 'name', type: 'varchar', length: '1024', isPrimary: true, collation },
          { name: 'kind', type: 'smallint' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'lineage_edges',
        columns: [
          { name: 'source', type: 'varchar', length: '1024', isPrimary: true, collation },
          { name: 'target', type: 'varchar', length: '1024', isPrimary: true, collation },
          { name: 'origin', type: 'varchar', length: '128' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('lineage_edges', new TableIndex({ name: 'lineage_edges_target_source', columnNames: ['target', 'source'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('lineage_edges');
    await runner.dropTable('lineage_nodes');
  }
}
