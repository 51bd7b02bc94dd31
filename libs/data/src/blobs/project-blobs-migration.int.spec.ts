import { openDatabase, type DatabaseConfig } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource, MigrationInterface } from 'typeorm';
import { DatasetEntity } from '../datasets/dataset.entity';
import { CreateDataTables1796437705052 } from '../migrations/1796437705052-create-data-tables';
import { CreateVersionTables1796440000000 } from '../migrations/1796440000000-create-version-tables';
import { CreateBlobsTable1796460000000 } from '../migrations/1796460000000-create-blobs-table';
import { CreateProjectBlobsTable1796461000000 } from '../migrations/1796461000000-create-project-blobs-table';
import { VersionEntity, VersionFileEntity, VersionTagEntity } from '../versions/version.entity';
import { BlobEntity } from './blob.entity';
import { ProjectBlobEntity } from './project-blob.entity';

const ENTITIES = [DatasetEntity, VersionEntity, VersionFileEntity, VersionTagEntity, BlobEntity, ProjectBlobEntity];
const BEFORE = [CreateDataTables1796437705052, CreateVersionTables1796440000000, CreateBlobsTable1796460000000];
const digest = (char: string) => char.repeat(64);

describe.each(['postgres', 'sqlite'] as const)('the project_blobs migration on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource | undefined;

  const open = (migrations: Array<new () => MigrationInterface>) => openDatabase({ service: 'data', database: database.config as DatabaseConfig, entities: ENTITIES, migrations });

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('lets every project hold the blobs its versions name, and no other', async () => {
    const before = await open(BEFORE);
    const at = 1_000;
    const dataset = (id: string, projectId: string) => ({ id, projectId, name: id, description: '', tags: [], creatorId: 'u', createdAt: at, updatedAt: at, lastVersion: 1, deletedAt: null });
    const version = (id: string, datasetId: string, deletedAt: number | null) => ({ id, datasetId, number: 1, parentNumber: 0, message: '', authorId: 'u', createdAt: at, fileCount: 1, totalBytes: 1, storeName: 'default', deletedAt });
    const file = (versionId: string, path: string, sha256: string) => ({ versionId, path, size: 1, sha256, mediaType: '' });
    await before.transaction(async (tx) => {
      await tx.insert(DatasetEntity, [dataset('da', 'pa'), dataset('db', 'pb')]);
      await tx.insert(VersionEntity, [version('va', 'da', null), version('vb', 'db', at)]);
      await tx.insert(VersionFileEntity, [file('va', 'x', digest('a')), file('va', 'y', digest('a')), file('vb', 'x', digest('b'))]);
      await tx.insert(BlobEntity, [digest('a'), digest('b'), digest('c')].map((sha256) => ({ storeName: 'default', sha256, size: 1, createdAt: at, lastReferencedAt: at + 1 })));
    });
    await before.destroy();

    dataSource = await open([...BEFORE, CreateProjectBlobsTable1796461000000]);
    const held = await dataSource.transaction((tx) => tx.find(ProjectBlobEntity, { order: { projectId: 'ASC' } }));
    expect(held).toEqual([
      { projectId: 'pa', storeName: 'default', sha256: digest('a'), createdAt: at, lastReferencedAt: at + 1 },
      { projectId: 'pb', storeName: 'default', sha256: digest('b'), createdAt: at, lastReferencedAt: at + 1 },
    ]);
  });
});
