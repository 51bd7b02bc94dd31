import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The blobs table: one row per storage instance and SHA-256 stored there. Times are milliseconds
 * since the epoch; `last_referenced_at` is when a commit (or an upload) last named the blob, which
 * garbage collection compares with its grace period. Digests are lowercase hex, so no collation is needed.
 */
export class CreateBlobsTable1796460000000 implements MigrationInterface {
  name = 'CreateBlobsTable1796460000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'blobs',
        columns: [
          { name: 'store_name', type: 'varchar', length: '128', isPrimary: true },
          { name: 'sha256', type: 'varchar', length: '64', isPrimary: true },
          { name: 'size', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_referenced_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('blobs');
  }
}
