import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Each replica's counts of a baking canary's requests, which the rollout worker adds up. Times are milliseconds since the epoch. */
export class CreateCanaryReports1796510000000 implements MigrationInterface {
  name = 'CreateCanaryReports1796510000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'rollout_canary_reports',
        columns: [
          { name: 'rollout_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'replica_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'requests', type: 'integer' },
          { name: 'errors', type: 'integer' },
          { name: 'p99_ms', type: 'double precision' },
          { name: 'reported_at', type: 'bigint' },
        ],
        foreignKeys: [{ columnNames: ['rollout_id'], referencedTableName: 'rollouts', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('rollout_canary_reports');
  }
}
