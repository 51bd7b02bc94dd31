import { openDatabase } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { CreatePredictionTables1796500000000 } from '../migrations/1796500000000-create-prediction-tables';
import { PredictionEntity, PredictionLoggingEntity } from './prediction.entity';
import { PredictionRepository } from './prediction.repository';
import type { TraceRow } from './trace-writer';

const row = (index: number, requestId = `req-${index}`): TraceRow => ({
  requestId,
  projectId: 'p1',
  endpointId: `ep-${index % 3}`,
  endpointName: 'fraud',
  revisionId: 'rev-1',
  answeredAt: 1_790_000_000_000 + index,
  latencyUs: 250 + index,
});

describe.each(['postgres', 'sqlite'] as const)('PredictionRepository on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;
  let repository: PredictionRepository;

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'serving',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      entities: [PredictionEntity, PredictionLoggingEntity],
      migrations: [CreatePredictionTables1796500000000],
    });
    repository = new PredictionRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('stores a batch of a thousand logged predictions in one call, each found by its request id with every column', async () => {
    const rows = Array.from({ length: 1024 }, (_, index) => row(index));

    await repository.insert(rows);

    expect(await repository.byRequestId('req-0')).toEqual([{ ...rows[0], seq: expect.any(Number) }]);
    expect(await repository.byRequestId('req-1023')).toEqual([{ ...rows[1023], seq: expect.any(Number) }]);
  });

  it("finds a reused request id's predictions latest first, and prunes those answered before a time", async () => {
    await repository.insert([row(5000, 'reused'), row(5002, 'reused'), row(5001, 'reused')]);

    expect((await repository.byRequestId('reused')).map((found) => found.answeredAt)).toEqual([1_790_000_005_002, 1_790_000_005_001, 1_790_000_005_000]);
    expect(await repository.prune(1_790_000_005_001)).toBe(1025);
    expect((await repository.byRequestId('reused')).map((found) => found.answeredAt)).toEqual([1_790_000_005_002, 1_790_000_005_001]);
  });
});
