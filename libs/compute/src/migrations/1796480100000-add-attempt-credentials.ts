import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Each attempt records the id of the API key in its MLFLOW_TRACKING_TOKEN, so the supervisor revokes it when the attempt ends. */
export class AddAttemptCredentials1796480100000 implements MigrationInterface {
  name = 'AddAttemptCredentials1796480100000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('attempts', new TableColumn({ name: 'credential_id', type: 'varchar', length: '64', default: "''" }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('attempts', 'credential_id');
  }
}
