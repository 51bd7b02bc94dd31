import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Orgs, projects, principals and role bindings; the same migration runs on SQLite and PostgreSQL. */
export class CreateIdentityTables1767100000000 implements MigrationInterface {
  name = 'CreateIdentityTables1767100000000';

  async up(runner: QueryRunner): Promise<void> {
    const id = { name: 'id', type: 'varchar', length: '36', isPrimary: true };
    const createdAt = { name: 'created_at', type: 'bigint' };
    await runner.createTable(
      new Table({ name: 'orgs', columns: [id, { name: 'name', type: 'varchar', length: '63', isUnique: true }, createdAt] }),
    );
    await runner.createTable(
      new Table({
        name: 'projects',
        columns: [
          id,
          { name: 'org_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'varchar', length: '63' },
          { name: 'description', type: 'text' },
          { name: 'encrypt_at_rest', type: 'boolean' },
          createdAt,
        ],
        uniques: [{ columnNames: ['org_id', 'name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'principals',
        columns: [
          id,
          { name: 'org_id', type: 'varchar', length: '36' },
          { name: 'kind', type: 'varchar', length: '20' },
          { name: 'name', type: 'varchar', length: '63' },
          { name: 'display_name', type: 'varchar', length: '200' },
          { name: 'org_admin', type: 'boolean' },
          createdAt,
        ],
        uniques: [{ columnNames: ['org_id', 'name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'role_bindings',
        columns: [
          { name: 'project_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'principal_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'role', type: 'varchar', length: '10' },
        ],
        indices: [{ columnNames: ['principal_id'] }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['role_bindings', 'principals', 'projects', 'orgs']) await runner.dropTable(table);
  }
}
