import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Experiments, runs and what runs log other than metrics (those have their own migration).
 * Times are milliseconds since the epoch, as MLflow clients send them. The same migration runs
 * on SQLite and PostgreSQL.
 */
export class CreateTrackingTables1767500000000 implements MigrationInterface {
  name = 'CreateTrackingTables1767500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'experiments',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '500' },
          { name: 'artifact_location', type: 'text' },
          { name: 'lifecycle_stage', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        uniques: [{ name: 'experiments_project_name', columnNames: ['project_id', 'name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'experiment_tags',
        columns: [
          { name: 'experiment_id', type: 'integer', isPrimary: true },
          { name: 'key', type: 'varchar', length: '250', isPrimary: true },
          { name: 'value', type: 'text' },
        ],
        foreignKeys: [{ columnNames: ['experiment_id'], referencedTableName: 'experiments', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'runs',
        columns: [
          { name: 'id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'experiment_id', type: 'integer' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '250' },
          { name: 'user_id', type: 'varchar', length: '256' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'start_time', type: 'bigint' },
          { name: 'end_time', type: 'bigint', isNullable: true },
          { name: 'artifact_uri', type: 'text' },
          { name: 'artifact_store', type: 'varchar', length: '64' },
          { name: 'lifecycle_stage', type: 'varchar', length: '16' },
          { name: 'parent_run_id', type: 'varchar', length: '32', isNullable: true },
          // Set when the run was deleted together with its experiment, so restoring the experiment restores only those.
          { name: 'deleted_with_experiment', type: 'boolean', default: false },
        ],
        foreignKeys: [{ columnNames: ['experiment_id'], referencedTableName: 'experiments', referencedColumnNames: ['id'] }],
        indices: [
          { name: 'runs_experiment_start', columnNames: ['experiment_id', 'lifecycle_stage', 'start_time', 'id'] },
          { name: 'runs_parent', columnNames: ['parent_run_id'] },
        ],
      }),
    );
    // Searches find runs by key first, then read the value from the row: values up to 8000
    // characters do not fit a PostgreSQL btree entry, so they are not indexed.
    for (const [table, valueLength] of [['run_params', 6000], ['run_tags', 8000]] as const) {
      await runner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'run_id', type: 'varchar', length: '32', isPrimary: true },
            { name: 'key', type: 'varchar', length: '250', isPrimary: true },
            { name: 'value', type: 'varchar', length: String(valueLength) },
          ],
          foreignKeys: [{ columnNames: ['run_id'], referencedTableName: 'runs', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
          indices: [{ name: `${table}_key_run`, columnNames: ['key', 'run_id'] }],
        }),
      );
    }
    await runner.createTable(
      new Table({
        name: 'run_inputs',
        columns: [
          { name: 'run_id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'position', type: 'integer', isPrimary: true },
          { name: 'name', type: 'varchar', length: '500' },
          { name: 'digest', type: 'varchar', length: '36' },
          { name: 'source_type', type: 'varchar', length: '64' },
          { name: 'source', type: 'text' },
          { name: 'schema', type: 'text' },
          { name: 'profile', type: 'text' },
          { name: 'context', type: 'varchar', length: '500', isNullable: true },
          // The use's tags as a JSON array of {key, value}.
          { name: 'tags', type: 'text' },
        ],
        foreignKeys: [{ columnNames: ['run_id'], referencedTableName: 'runs', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        uniques: [{ name: 'run_inputs_dataset', columnNames: ['run_id', 'name', 'digest'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'project_settings',
        columns: [
          { name: 'project_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'artifact_store', type: 'varchar', length: '64' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['project_settings', 'run_inputs', 'run_tags', 'run_params', 'runs', 'experiment_tags', 'experiments']) {
      await runner.dropTable(table);
    }
  }
}
