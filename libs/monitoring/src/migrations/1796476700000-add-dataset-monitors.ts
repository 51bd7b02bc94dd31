import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Monitors of a dataset's versions: the dataset a monitor watches (empty for an endpoint monitor),
 * and the versions committed since, each scored once as one window. Times are milliseconds since
 * the epoch.
 */
export class AddDatasetMonitors1796476700000 implements MigrationInterface {
  name = 'AddDatasetMonitors1796476700000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumns('monitors', [
      new TableColumn({ name: 'dataset_id', type: 'varchar', length: '64', default: "''" }),
      new TableColumn({ name: 'dataset_name', type: 'varchar', length: '128', default: "''" }),
      new TableColumn({ name: 'dataset_path', type: 'varchar', length: '1024', default: "''" }),
    ]);
    // A committed version finds the monitors of its dataset through it.
    await runner.createIndex('monitors', new TableIndex({ name: 'monitors_dataset', columnNames: ['dataset_id'] }));
    await runner.createTable(
      new Table({
        name: 'monitor_dataset_versions',
        columns: [
          { name: 'monitor_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'version', type: 'bigint', isPrimary: true },
          { name: 'committed_at', type: 'bigint' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'last_error', type: 'text' },
        ],
        // The worker reads the due ones.
        indices: [{ name: 'monitor_dataset_versions_due', columnNames: ['status', 'next_attempt_at'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('monitor_dataset_versions');
    await runner.dropIndex('monitors', 'monitors_dataset');
    await runner.dropColumns('monitors', ['dataset_path', 'dataset_name', 'dataset_id']);
  }
}
