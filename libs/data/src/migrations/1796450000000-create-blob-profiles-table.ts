import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The profiles of tabular blobs: one row per blob digest and format (the same bytes give the same
 * profile in any version or storage instance), with the instance to read it from, its status
 * (pending, ready, failed) and the profile as JSON. Times are milliseconds since the epoch.
 */
export class CreateBlobProfilesTable1796450000000 implements MigrationInterface {
  name = 'CreateBlobProfilesTable1796450000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'data_blob_profiles',
        columns: [
          { name: 'sha256', type: 'varchar', length: '64', isPrimary: true },
          { name: 'format', type: 'varchar', length: '16', isPrimary: true },
          { name: 'store_name', type: 'varchar', length: '128' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'message', type: 'text', default: "''" },
          { name: 'profile', type: 'text', isNullable: true },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('data_blob_profiles', new TableIndex({ name: 'data_blob_profiles_status_updated', columnNames: ['status', 'updated_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('data_blob_profiles');
  }
}
