import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Signing keys are kept wrapped by governance's KMS instance (`wrapped_private_key`), no longer as
 * PEM in the clear, so `private_pem` may be empty. The rows already there are wrapped when
 * governance starts (a migration holds no KMS); until then they are read as they are.
 */
export class WrapSigningKeys1767475000000 implements MigrationInterface {
  name = 'WrapSigningKeys1767475000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('signing_keys', new TableColumn({ name: 'wrapped_private_key', type: 'text', isNullable: true }));
    await runner.changeColumn('signing_keys', 'private_pem', new TableColumn({ name: 'private_pem', type: 'text', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.changeColumn('signing_keys', 'private_pem', new TableColumn({ name: 'private_pem', type: 'text' }));
    await runner.dropColumn('signing_keys', 'wrapped_private_key');
  }
}
