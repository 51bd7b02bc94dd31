import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Per-minute request counts of each revision by latency bucket, which every replica adds to (GetEndpointStats). */
export class CreateEndpointStats1796530000000 implements MigrationInterface {
  name = 'CreateEndpointStats1796530000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'endpoint_stats',
        columns: [
          { name: 'endpoint_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'minute', type: 'bigint', isPrimary: true },
          { name: 'revision_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'latency_bucket', type: 'integer', isPrimary: true },
          { name: 'requests', type: 'bigint' },
          { name: 'errors', type: 'bigint' },
        ],
        indices: [{ name: 'endpoint_stats_minute', columnNames: ['minute'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('endpoint_stats');
  }
}
