import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** API keys and signing keys; the same migration runs on SQLite and PostgreSQL. */
export class CreateTokenTables1767200000000 implements MigrationInterface {
  name = 'CreateTokenTables1767200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'principal_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'project_ids', type: 'text' },
          { name: 'secret_sha256', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
        ],
        indices: [{ columnNames: ['principal_id'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          { name: 'kid', type: 'varchar', length: '36', isPrimary: true },
          { name: 'public_jwk', type: 'text' },
          { name: 'private_pem', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'retired_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('signing_keys');
    await runner.dropTable('api_keys');
  }
}
