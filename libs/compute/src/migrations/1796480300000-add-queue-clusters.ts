import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A queue places jobs on several clusters with a placement policy, and each attempt records why it
 * went to its cluster. Older queues keep `clusters` empty, read as their one `cluster`.
 */
export class AddQueueClusters1796480300000 implements MigrationInterface {
  name = 'AddQueueClusters1796480300000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('queues', new TableColumn({ name: 'clusters', type: 'text', default: "'[]'" }));
    await runner.addColumn('queues', new TableColumn({ name: 'placement', type: 'varchar', length: '16', default: "'FIRST_FIT'" }));
    await runner.addColumn('attempts', new TableColumn({ name: 'placement', type: 'text', default: "''" }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('attempts', 'placement');
    await runner.dropColumn('queues', 'placement');
    await runner.dropColumn('queues', 'clusters');
  }
}
