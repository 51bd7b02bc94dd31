import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The performance feature's tables: labels by endpoint and request id, the predicted rows of
 * monitors with performance, and each closed window's seq range and metrics. Times are
 * milliseconds since the epoch.
 */
export class CreatePerformanceTables1796476500000 implements MigrationInterface {
  name = 'CreatePerformanceTables1796476500000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'performance_labels',
        columns: [
          { name: 'project_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'endpoint_name', type: 'varchar', length: '128', isPrimary: true },
          { name: 'request_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'row_index', type: 'integer', isPrimary: true },
          { name: 'label_class', type: 'varchar', length: '256' },
          { name: 'label_value', type: 'double precision', isNullable: true },
          { name: 'posted_at', type: 'bigint' },
        ],
      }),
    );
    // The retention worker deletes labels by age.
    await runner.createIndex('performance_labels', new TableIndex({ name: 'performance_labels_posted_at', columnNames: ['posted_at'] }));
    await runner.createTable(
      new Table({
        name: 'performance_predictions',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'seq', type: 'bigint', isPrimary: true },
          { name: 'request_id', type: 'varchar', length: '256' },
          { name: 'row_index', type: 'integer' },
          { name: 'answered_at', type: 'bigint' },
          { name: 'predicted_class', type: 'text' },
          { name: 'predicted_value', type: 'double precision', isNullable: true },
        ],
      }),
    );
    // Posted labels find their predictions by request id, in the monitors of their endpoint.
    await runner.createIndex('performance_predictions', new TableIndex({ name: 'performance_predictions_request', columnNames: ['monitor_id', 'request_id'] }));
    await runner.createIndex('performance_predictions', new TableIndex({ name: 'performance_predictions_answered_at', columnNames: ['answered_at'] }));
    await runner.createTable(
      new Table({
        name: 'performance_windows',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'number', type: 'bigint', isPrimary: true },
          { name: 'first_seq', type: 'bigint' },
          { name: 'last_seq', type: 'bigint' },
          { name: 'closed_at', type: 'bigint' },
          { name: 'labeled_rows', type: 'bigint' },
          { name: 'accuracy', type: 'double precision' },
          { name: 'precision_score', type: 'double precision' },
          { name: 'recall_score', type: 'double precision' },
          { name: 'f1_score', type: 'double precision' },
          { name: 'mae', type: 'double precision' },
          { name: 'rmse', type: 'double precision' },
        ],
      }),
    );
    // Labels find the windows whose seq range holds their predictions.
    await runner.createIndex('performance_windows', new TableIndex({ name: 'performance_windows_last_seq', columnNames: ['monitor_id', 'last_seq'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('performance_windows');
    await runner.dropTable('performance_predictions');
    await runner.dropTable('performance_labels');
  }
}
