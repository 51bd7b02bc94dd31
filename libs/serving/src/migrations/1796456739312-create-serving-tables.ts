import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The endpoints and revisions tables. Times are milliseconds since the epoch; splits are JSON.
 * The same migration runs on SQLite and PostgreSQL; on PostgreSQL names compare byte by byte
 * ("C"), as on SQLite, so ListEndpoints pages in the same order on both.
 */
export class CreateServingTables1796456739312 implements MigrationInterface {
  name = 'CreateServingTables1796456739312';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'endpoints',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64', collation },
          { name: 'name', type: 'varchar', length: '128', collation },
          { name: 'description', type: 'text' },
          { name: 'max_batch_size', type: 'integer' },
          { name: 'max_queue_delay_us', type: 'integer' },
          { name: 'traffic', type: 'text' },
          { name: 'previous_traffic', type: 'text', isNullable: true },
          { name: 'revision_count', type: 'integer' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        // Also the index ListEndpoints reads a project's page through, in name order, and inference finds an endpoint by.
        uniques: [{ name: 'endpoints_project_name', columnNames: ['project_id', 'name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'revisions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'endpoint_id', type: 'varchar', length: '36' },
          { name: 'number', type: 'integer' },
          { name: 'model_ref', type: 'varchar', length: '600' },
          { name: 'model_name', type: 'varchar', length: '256' },
          { name: 'model_version', type: 'integer' },
          { name: 'resolved_alias', type: 'varchar', length: '255' },
          { name: 'run_id', type: 'varchar', length: '256' },
          { name: 'artifact_uri', type: 'text' },
          { name: 'model_format', type: 'varchar', length: '64' },
          { name: 'runtime', type: 'varchar', length: '63' },
          { name: 'replicas', type: 'integer' },
          { name: 'resources', type: 'text' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'state_message', type: 'text' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
        ],
        uniques: [{ name: 'revisions_endpoint_number', columnNames: ['endpoint_id', 'number'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('revisions');
    await runner.dropTable('endpoints');
  }
}
