import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Registered models, versions, tags, aliases and their history, and spent approvals. Times are
 * milliseconds since the epoch. The same migration runs on SQLite and PostgreSQL; on PostgreSQL
 * names compare byte by byte ("C"), as on SQLite, so listings page in the same order on both.
 */
export class CreateRegistryTables1767600000000 implements MigrationInterface {
  name = 'CreateRegistryTables1767600000000';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'registered_models',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'project_id', type: 'varchar', length: '64', collation },
          { name: 'name', type: 'varchar', length: '256', collation },
          { name: 'description', type: 'text' },
          // A JSON array of alias names.
          { name: 'protected_aliases', type: 'text' },
          { name: 'latest_version', type: 'integer', default: 0 },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        uniques: [{ name: 'registered_models_project_name', columnNames: ['project_id', 'name'] }],
        // Searches across projects list by name.
        indices: [{ name: 'registered_models_name', columnNames: ['name', 'project_id'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'model_tags',
        columns: [
          { name: 'model_id', type: 'integer', isPrimary: true },
          { name: 'key', type: 'varchar', length: '250', isPrimary: true },
          { name: 'value', type: 'varchar', length: '5000' },
        ],
        foreignKeys: [{ columnNames: ['model_id'], referencedTableName: 'registered_models', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'model_versions',
        columns: [
          { name: 'model_id', type: 'integer', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'source', type: 'text' },
          { name: 'run_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'status_message', type: 'text' },
          { name: 'format', type: 'varchar', length: '64' },
          { name: 'signature', type: 'text', isNullable: true },
          { name: 'description', type: 'text' },
          { name: 'storage_uri', type: 'text' },
          { name: 'artifact_store', type: 'varchar', length: '64', isNullable: true },
          // The run, experiment and datasets as JSON, copied from tracking when the version was created.
          { name: 'lineage', type: 'text', isNullable: true },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        foreignKeys: [{ columnNames: ['model_id'], referencedTableName: 'registered_models', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [
          { name: 'model_versions_run', columnNames: ['run_id'] },
          { name: 'model_versions_status', columnNames: ['status'] },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'version_tags',
        columns: [
          { name: 'model_id', type: 'integer', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'key', type: 'varchar', length: '250', isPrimary: true },
          { name: 'value', type: 'varchar', length: '5000' },
        ],
        foreignKeys: [
          { columnNames: ['model_id', 'version'], referencedTableName: 'model_versions', referencedColumnNames: ['model_id', 'version'], onDelete: 'CASCADE' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'model_aliases',
        columns: [
          { name: 'model_id', type: 'integer', isPrimary: true },
          { name: 'alias', type: 'varchar', length: '255', isPrimary: true },
          { name: 'version', type: 'integer' },
        ],
        // No cascade: a version an alias points at cannot go (the service names the alias first).
        foreignKeys: [{ columnNames: ['model_id', 'version'], referencedTableName: 'model_versions', referencedColumnNames: ['model_id', 'version'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'alias_history',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'model_id', type: 'integer' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'alias', type: 'varchar', length: '255' },
          { name: 'from_version', type: 'integer' },
          { name: 'to_version', type: 'integer' },
          { name: 'actor_id', type: 'varchar', length: '256' },
          { name: 'time_ms', type: 'bigint' },
          { name: 'approval_id', type: 'varchar', length: '128' },
        ],
        indices: [
          { name: 'alias_history_model', columnNames: ['model_id', 'seq'] },
          { name: 'alias_history_alias', columnNames: ['model_id', 'alias', 'time_ms', 'seq'] },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'used_approvals',
        columns: [
          { name: 'approval_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'model_id', type: 'integer' },
          { name: 'alias', type: 'varchar', length: '255' },
          { name: 'used_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['used_approvals', 'alias_history', 'model_aliases', 'version_tags', 'model_versions', 'model_tags', 'registered_models']) {
      await runner.dropTable(table);
    }
  }
}
