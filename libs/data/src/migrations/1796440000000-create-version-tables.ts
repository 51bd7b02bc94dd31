import { Dialect } from '@trellis/platform';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Dataset versions, their files and their tags. Each version holds the whole manifest of its
 * files (a commit of changes copies its parent's rows in one statement), so a listing, a diff and
 * the live digests are plain queries. Paths and tags compare byte by byte on both databases.
 */
export class CreateVersionTables1796440000000 implements MigrationInterface {
  name = 'CreateVersionTables1796440000000';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'dataset_versions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'dataset_id', type: 'varchar', length: '36' },
          { name: 'number', type: 'bigint' },
          { name: 'parent_number', type: 'bigint' },
          { name: 'message', type: 'text' },
          { name: 'author_id', type: 'varchar', length: '256' },
          { name: 'created_at', type: 'bigint' },
          { name: 'file_count', type: 'bigint' },
          { name: 'total_bytes', type: 'bigint' },
          { name: 'store_name', type: 'varchar', length: '128' },
          { name: 'deleted_at', type: 'bigint', isNullable: true },
        ],
        // Also the index ListVersions reads newest first through.
        uniques: [{ name: 'dataset_versions_number', columnNames: ['dataset_id', 'number'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'dataset_version_files',
        columns: [
          { name: 'version_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'path', type: 'varchar', length: '1024', isPrimary: true, collation },
          { name: 'size', type: 'bigint' },
          { name: 'sha256', type: 'varchar', length: '64' },
          { name: 'media_type', type: 'varchar', length: '255' },
        ],
      }),
    );
    // No index on sha256: a commit copies its parent's rows, and keeping a second index of random
    // digests up to date more than doubled the time of a 10-file change to a 100,000-file version
    // (tools/bench/data/commit.bench.ts); garbage collection reads the live digests in one scan.
    await runner.createTable(
      new Table({
        name: 'dataset_version_tags',
        columns: [
          { name: 'dataset_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tag', type: 'varchar', length: '128', isPrimary: true, collation },
          { name: 'version_id', type: 'varchar', length: '36' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('dataset_version_tags', new TableIndex({ name: 'dataset_version_tags_version', columnNames: ['version_id'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('dataset_version_tags');
    await runner.dropTable('dataset_version_files');
    await runner.dropTable('dataset_versions');
  }
}
