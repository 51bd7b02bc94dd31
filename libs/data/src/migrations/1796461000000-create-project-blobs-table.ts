import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The project_blobs table: which blobs of an instance each project holds. Existing projects keep
 * what their versions (deleted ones too, until garbage collection) name, with the blob's times;
 * blobs uploaded but named by no version are forgotten, and a client uploads them again.
 */
export class CreateProjectBlobsTable1796461000000 implements MigrationInterface {
  name = 'CreateProjectBlobsTable1796461000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'project_blobs',
        columns: [
          { name: 'project_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'store_name', type: 'varchar', length: '128', isPrimary: true },
          { name: 'sha256', type: 'varchar', length: '64', isPrimary: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_referenced_at', type: 'bigint' },
        ],
        // Garbage collection drops a blob's rows of every project with the blob.
        indices: [{ name: 'project_blobs_store_sha256', columnNames: ['store_name', 'sha256'] }],
      }),
    );
    await runner.query(
      'INSERT INTO project_blobs (project_id, store_name, sha256, created_at, last_referenced_at) ' +
        'SELECT DISTINCT d.project_id, v.store_name, f.sha256, b.created_at, b.last_referenced_at ' +
        'FROM dataset_version_files f JOIN dataset_versions v ON v.id = f.version_id JOIN datasets d ON d.id = v.dataset_id ' +
        'JOIN blobs b ON b.store_name = v.store_name AND b.sha256 = f.sha256',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('project_blobs');
  }
}
