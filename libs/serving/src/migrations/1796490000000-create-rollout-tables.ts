import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Progressive rollout: each endpoint's policy (the alias it follows) and its rollouts. Times are milliseconds since the epoch. */
export class CreateRolloutTables1796490000000 implements MigrationInterface {
  name = 'CreateRolloutTables1796490000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'rollout_policies',
        columns: [
          { name: 'endpoint_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'endpoint_name', type: 'varchar', length: '128' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'model_name', type: 'varchar', length: '256' },
          { name: 'alias', type: 'varchar', length: '255' },
          { name: 'canary_percent', type: 'integer' },
          { name: 'bake_time_ms', type: 'bigint' },
          { name: 'max_error_percent', type: 'double precision' },
          { name: 'max_p99_latency_ms', type: 'bigint' },
          { name: 'min_requests', type: 'bigint' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'updated_at', type: 'bigint' },
        ],
        // How an alias move finds the endpoints that follow it.
        indices: [{ name: 'rollout_policies_alias', columnNames: ['project_id', 'model_name', 'alias'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'rollouts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'endpoint_id', type: 'varchar', length: '36' },
          { name: 'endpoint_name', type: 'varchar', length: '128' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'trigger_key', type: 'varchar', length: '600' },
          { name: 'stage', type: 'varchar', length: '16' },
          { name: 'model_name', type: 'varchar', length: '256' },
          { name: 'model_version', type: 'integer' },
          { name: 'candidate_revision_id', type: 'varchar', length: '36' },
          { name: 'previous_traffic', type: 'text', isNullable: true },
          { name: 'actor_id', type: 'varchar', length: '256' },
          { name: 'request_id', type: 'varchar', length: '128' },
          { name: 'created_at', type: 'bigint' },
          { name: 'started_at', type: 'bigint' },
          { name: 'decided_at', type: 'bigint' },
          { name: 'reason', type: 'text' },
          { name: 'requests', type: 'integer' },
          { name: 'errors', type: 'integer' },
        ],
        // A replayed alias move finds the rollout it started instead of starting another.
        uniques: [{ name: 'rollouts_endpoint_trigger', columnNames: ['endpoint_id', 'trigger_key'] }],
      }),
    );
    await runner.createIndex('rollouts', new TableIndex({ name: 'rollouts_stage', columnNames: ['stage'] }));
    await runner.createIndex('rollouts', new TableIndex({ name: 'rollouts_endpoint_created', columnNames: ['endpoint_id', 'created_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('rollouts');
    await runner.dropTable('rollout_policies');
  }
}
