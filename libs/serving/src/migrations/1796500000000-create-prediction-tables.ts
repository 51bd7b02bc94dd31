import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The logged predictions TracePrediction reads (request id -> endpoint, revision, time) and each endpoint's logging share. */
export class CreatePredictionTables1796500000000 implements MigrationInterface {
  name = 'CreatePredictionTables1796500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'predictions',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'request_id', type: 'varchar', length: '256' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'endpoint_id', type: 'varchar', length: '36' },
          { name: 'endpoint_name', type: 'varchar', length: '128' },
          { name: 'revision_id', type: 'varchar', length: '36' },
          { name: 'answered_at', type: 'bigint' },
          { name: 'latency_us', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('predictions', new TableIndex({ name: 'predictions_request_id', columnNames: ['request_id'] }));
    await runner.createIndex('predictions', new TableIndex({ name: 'predictions_answered_at', columnNames: ['answered_at'] }));
    await runner.createTable(
      new Table({
        name: 'prediction_logging',
        columns: [
          { name: 'endpoint_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'sample_share', type: 'double precision' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('prediction_logging');
    await runner.dropTable('predictions');
  }
}
