import { DataSource } from 'typeorm';
import { CreateDataTables1796437705052 } from '../migrations/1796437705052-create-data-tables';
import { CreateVersionTables1796440000000 } from '../migrations/1796440000000-create-version-tables';
import { DatasetEntity } from '../datasets/dataset.entity';
import { VersionEntity, VersionFileEntity, VersionTagEntity } from './version.entity';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';

describe('VersionService.lookUp, for the service\'s own work', () => {
  let dataSource: DataSource;
  let service: VersionService;

  beforeAll(async () => {
    dataSource = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [DatasetEntity, VersionEntity, VersionFileEntity, VersionTagEntity],
      migrations: [CreateDataTables1796437705052, CreateVersionTables1796440000000],
    });
    await dataSource.initialize();
    await dataSource.runMigrations();
    const now = Date.now();
    await dataSource.getRepository(DatasetEntity).insert({ id: 'd1', projectId: 'p1', name: 'iris', description: '', tags: [], creatorId: 'u', createdAt: now, updatedAt: now, lastVersion: 2, deletedAt: null });
    const version = (id: string, number: number, deletedAt: number | null) => ({ id, datasetId: 'd1', number, parentNumber: 0, message: '', authorId: 'u', createdAt: now, fileCount: 0, totalBytes: 0, storeName: 'default', deletedAt });
    await dataSource.getRepository(VersionEntity).insert([version('v1', 1, null), version('v2', 2, now)]);
    await dataSource.getRepository(VersionTagEntity).insert({ datasetId: 'd1', tag: 'golden', versionId: 'v1', updatedAt: now });
    // lookUp uses only the repository: the other collaborators are never reached.
    service = new VersionService(new VersionRepository(dataSource), undefined as never, undefined as never, undefined as never, undefined as never);
  });

  afterAll(() => dataSource.destroy());

  it('finds live versions by number and by tag, and nothing for deleted versions or unknown names', async () => {
    expect((await service.lookUp('p1', 'datasets:/iris/1'))?.version.id).toBe('v1');
    expect((await service.lookUp('p1', 'datasets:/iris@golden'))?.tags).toEqual(['golden']);
    expect(await service.lookUp('p1', 'datasets:/iris/2')).toBeNull();
    expect(await service.lookUp('p1', 'datasets:/iris@silver')).toBeNull();
    expect(await service.lookUp('p2', 'datasets:/iris/1')).toBeNull();
    await expect(service.lookUp('p1', 'iris/1')).rejects.toThrow('reference');
  });
});
