import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Each queue records the org whose admins made it: only that org's principals see it and its grants, and only its projects submit to it. */
export class AddQueueOrgs1796480200000 implements MigrationInterface {
  name = 'AddQueueOrgs1796480200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('queues', new TableColumn({ name: 'org_id', type: 'varchar', length: '64', default: "''" }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('queues', 'org_id');
  }
}
