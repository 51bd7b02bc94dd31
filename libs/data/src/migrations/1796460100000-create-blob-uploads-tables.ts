import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Uploads of blobs in parts or through presigned URLs, and the parts each holds. Times are milliseconds since the epoch. */
export class CreateBlobUploadsTables1796460100000 implements MigrationInterface {
  name = 'CreateBlobUploadsTables1796460100000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'blob_uploads',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'store_name', type: 'varchar', length: '128' },
          { name: 'sha256', type: 'varchar', length: '64' },
          { name: 'size', type: 'bigint' },
          { name: 'storage_upload_id', type: 'varchar', length: '1024' },
          { name: 'creator_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        // Expired uploads are found and aborted by expiry.
        indices: [{ name: 'blob_uploads_expires_at', columnNames: ['expires_at'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'blob_upload_parts',
        columns: [
          { name: 'upload_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'part_number', type: 'integer', isPrimary: true },
          { name: 'etag', type: 'varchar', length: '1024' },
          { name: 'size', type: 'bigint' },
        ],
        foreignKeys: [{ columnNames: ['upload_id'], referencedTableName: 'blob_uploads', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('blob_upload_parts');
    await runner.dropTable('blob_uploads');
  }
}
