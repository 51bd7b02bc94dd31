import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Queues, grants, jobs and attempts. Times are milliseconds since the epoch. The same migration
 * runs on SQLite and PostgreSQL; on PostgreSQL names compare byte by byte ("C"), as on SQLite, so
 * listings page in the same order on both.
 */
export class CreateComputeTables1796480000000 implements MigrationInterface {
  name = 'CreateComputeTables1796480000000';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    const times = ['created_at', 'updated_at'].map((name) => ({ name, type: 'bigint' }));
    await runner.createTable(
      new Table({
        name: 'queues',
        columns: [
          { name: 'name', type: 'varchar', length: '63', isPrimary: true, collation },
          { name: 'cluster', type: 'varchar', length: '128' },
          { name: 'cohort', type: 'varchar', length: '63' },
          { name: 'reclaim_within_cohort', type: 'varchar', length: '16' },
          { name: 'within_queue', type: 'varchar', length: '16' },
          { name: 'description', type: 'text' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          ...times,
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'grants',
        columns: [
          { name: 'queue', type: 'varchar', length: '63', isPrimary: true, collation },
          { name: 'project_id', type: 'varchar', length: '64', isPrimary: true, collation },
          { name: 'quotas', type: 'text' },
          ...times,
        ],
        indices: [{ name: 'grants_project', columnNames: ['project_id', 'queue'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'jobs',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'queue', type: 'varchar', length: '63' },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'spec', type: 'text' },
          { name: 'priority', type: 'integer' },
          { name: 'replicas', type: 'integer' },
          { name: 'request', type: 'text' },
          { name: 'any_gpus', type: 'integer' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'reason', type: 'text' },
          { name: 'run_id', type: 'varchar', length: '64' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          ...times,
          { name: 'not_before', type: 'bigint' },
          { name: 'admitted_at', type: 'bigint', isNullable: true },
          { name: 'admitted_request', type: 'text', isNullable: true },
          { name: 'borrowing', type: 'boolean' },
        ],
        uniques: [{ name: 'jobs_project_request', columnNames: ['project_id', 'request_id'] }],
        indices: [
          // ListJobs: a project's jobs, newest first.
          { name: 'jobs_project_created', columnNames: ['project_id', 'created_at'] },
          // The admission loop and the supervisor read jobs by state.
          { name: 'jobs_state', columnNames: ['state'] },
          { name: 'jobs_queue_state', columnNames: ['queue', 'state'] },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'attempts',
        columns: [
          { name: 'job_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'number', type: 'integer', isPrimary: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'cluster', type: 'varchar', length: '128' },
          { name: 'backend_job_id', type: 'varchar', length: '256' },
          { name: 'stop', type: 'varchar', length: '16', isNullable: true },
          { name: 'reason', type: 'text' },
          { name: 'exit_code', type: 'integer', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'started_at', type: 'bigint', isNullable: true },
          { name: 'finished_at', type: 'bigint', isNullable: true },
        ],
        foreignKeys: [{ columnNames: ['job_id'], referencedTableName: 'jobs', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [{ name: 'attempts_state', columnNames: ['state'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['attempts', 'jobs', 'grants', 'queues']) await runner.dropTable(table);
  }
}
