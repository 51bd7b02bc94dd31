import { openDatabase, silentLogger } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { CreateEndpointStats1796530000000 } from '../migrations/1796530000000-create-endpoint-stats';
import { EndpointStatsEntity } from './endpoint-stats.entity';
import { EndpointStatsRecorder } from './endpoint-stats.recorder';
import { EndpointStatsRepository } from './endpoint-stats.repository';
import { bucketOf } from './latency-histogram';

const t0 = Date.UTC(2026, 5, 1, 12, 0);
const MINUTE = 60_000;

describe.each(['postgres', 'sqlite'] as const)('endpoint statistics on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;
  let repository: EndpointStatsRepository;

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'serving',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      entities: [EndpointStatsEntity],
      migrations: [CreateEndpointStats1796530000000],
    });
    repository = new EndpointStatsRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it("adds two replicas' counts of the same minutes, and sums minutes into the asked buckets per revision and latency bucket", async () => {
    const replicaA = new EndpointStatsRecorder(repository, silentLogger as never);
    const replicaB = new EndpointStatsRecorder(repository, silentLogger as never);
    for (let second = 0; second < 3 * 60; second += 10) replicaA.record('ep-1', 'rev-1', 5, false, t0 + second * 1000);
    replicaB.record('ep-1', 'rev-1', 5, true, t0 + 30_000);
    replicaB.record('ep-1', 'rev-2', 200, false, t0 + 90_000);
    replicaB.record('ep-other', 'rev-9', 1, false, t0);
    await replicaA.write();
    await replicaB.write();
    // A second write adds to what is stored, it does not overwrite it.
    replicaA.record('ep-1', 'rev-1', 5, false, t0 + 10_000);
    await replicaA.write();

    const slots = await repository.slots('ep-1', t0, t0 + 4 * MINUTE, 2 * MINUTE);
    expect(slots.sort((a, b) => a.revisionId.localeCompare(b.revisionId) || a.slot - b.slot)).toEqual([
      { revisionId: 'rev-1', slot: 0, latencyBucket: bucketOf(5), requests: 14, errors: 1 },
      { revisionId: 'rev-1', slot: 1, latencyBucket: bucketOf(5), requests: 6, errors: 0 },
      { revisionId: 'rev-2', slot: 0, latencyBucket: bucketOf(200), requests: 1, errors: 0 },
    ]);
    expect(replicaA.unwritten('ep-1', t0, t0 + 4 * MINUTE)).toEqual([]);
  });

  it('keeps counts a write could not store for the next write, and deletes minutes past retention', async () => {
    const failing = { add: async () => Promise.reject(new Error('database unreachable')) } as unknown as EndpointStatsRepository;
    const recorder = new EndpointStatsRecorder(failing, silentLogger as never);
    recorder.record('ep-2', 'rev-3', 1, false, t0);
    await recorder.write();
    recorder.record('ep-2', 'rev-3', 1, false, t0 + 1);
    const [kept] = recorder.unwritten('ep-2', t0, t0 + MINUTE);
    expect(kept.histogram.total).toBe(2);

    const recovered = new EndpointStatsRecorder(repository, silentLogger as never);
    recovered.record('ep-2', 'rev-3', 1, false, t0 - 40 * 24 * 60 * MINUTE);
    recovered.record('ep-2', 'rev-3', 1, false, t0);
    await recovered.write();
    expect(await repository.prune(t0 - 30 * 24 * 60 * MINUTE)).toBe(1);
    expect(await repository.slots('ep-2', 0, t0 + MINUTE, MINUTE)).toEqual([expect.objectContaining({ requests: 1 })]);
  });
});
