import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { abilityFor, Caller, callContextOf, defineService, type GrpcClient, type Principal, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { MetricSampling, MetricServiceDesc, type Metric, type MetricColumns, type StreamMetricHistoryResponse } from '@trellis/proto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@trellis/testing';
import { CreateTrackingTables1767500000000 } from '../migrations/1767500000000-create-tracking-tables';
import { CreateMetricTables1767500001000 } from '../migrations/1767500001000-create-metric-tables';
import { MetricRollupTimestamps1767700000000 } from '../migrations/1767700000000-metric-rollup-timestamps';
import { AddRunArtifactKms1767800000000 } from '../migrations/1767800000000-add-run-artifact-kms';
import { RunAccess } from '../runs/run-access';
import { RunEntity } from '../runs/run.entity';
import { RunRepository } from '../runs/run.repository';
import { METRIC_ENTITIES } from './metric.entity';
import { MetricGrpc } from './metric.grpc';
import { MetricService } from './metric.service';
import { MetricRepository, type MetricPoint } from './metric.repository';
import { MetricsModule } from './metrics.module';

@Module({ imports: [MetricsModule] })
class MetricsTestModule {}

const metricsTest = defineService({
  name: 'tracking',
  defaultPort: 0,
  module: MetricsTestModule,
  grpcServices: [MetricServiceDesc],
  entities: [RunEntity, ...METRIC_ENTITIES],
  migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000, AddRunArtifactKms1767800000000],
});

type MetricClient = GrpcClient<(typeof MetricServiceDesc)['method']>;

const points = (key: string, count: number): MetricPoint[] =>
  Array.from({ length: count }, (_, i) => ({ key, value: i === 3 ? Number.NaN : i / 2, step: i, timestampMs: 1_767_225_600_000 + i }));

describe('MetricService through the service kit', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let reader: MetricClient;
  let outsider: MetricClient;
  const runA = 'a'.repeat(32);
  const runB = 'b'.repeat(32);
  const hidden = 'c'.repeat(32);

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(metricsTest);
    const dataSource = service.dataSource;
    const store = new MetricRepository(dataSource);
    await dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES ('p1', 'e', '', 'active', 0, 0)`);
      await m.query(`INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES ('p2', 'e', '', 'active', 0, 0)`);
      for (const [id, experiment, project] of [[runA, 1, 'p1'], [runB, 1, 'p1'], [hidden, 2, 'p2']]) {
        await m.query(
          `INSERT INTO runs (id, experiment_id, project_id, name, user_id, status, start_time, artifact_uri, artifact_store, lifecycle_stage)
           VALUES (?, ?, ?, 'r', 'alice', 'RUNNING', 0, '', 'default', 'active')`,
          [id, experiment, project],
        );
      }
    });
    for (let i = 0; i < 25_000; i += 5000) {
      await dataSource.transaction((m) => store.append(m, runA, points('loss', 25_000).slice(i, i + 5000)));
    }
    await dataSource.transaction((m) => store.append(m, runB, [...points('loss', 10), ...points('acc', 3)]));
    await dataSource.transaction((m) => store.append(m, hidden, points('loss', 3)));
    reader = await platform.client(MetricServiceDesc, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });
    outsider = await platform.client(MetricServiceDesc, service.grpcAddress, { sub: 'oscar', bindings: [{ project: 'p3', role: 'owner' }] });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const codeOf = async (call: Promise<unknown>) => ((await call.catch((e: unknown) => e)) as ServiceError).code;
  const drain = async (stream: AsyncIterable<{ metrics: unknown[] }>) => {
    const sizes: number[] = [];
    for await (const message of stream) sizes.push(message.metrics.length);
    return sizes;
  };

  it('pages through a history with tokens, keeping NaN', async () => {
    const first = await reader.getMetricHistory({ runId: runB, key: 'loss', pageSize: 4 });
    expect(first.metrics.map((m) => [m.step, m.value, m.timestampMs])).toEqual([
      [0n, 0, 1_767_225_600_000n],
      [1n, 0.5, 1_767_225_600_001n],
      [2n, 1, 1_767_225_600_002n],
      [3n, Number.NaN, 1_767_225_600_003n],
    ]);
    const rest = await reader.getMetricHistory({ runId: runB, key: 'loss', pageSize: 0, pageToken: first.nextPageToken });
    expect(rest.metrics.map((m) => Number(m.step))).toEqual([4, 5, 6, 7, 8, 9]);
    expect(rest.nextPageToken).toBe('');
  });

  it('streams a whole series in chunks', async () => {
    expect(await drain(reader.streamMetricHistory({ runId: runA, key: 'loss' }))).toEqual([10_000, 10_000, 5000]);
    expect(await drain(reader.streamMetricHistory({ runId: runA, key: 'absent' }))).toEqual([]);
  });

  it('samples the series of each run in request order, leaving out runs without the key', async () => {
    const response = await reader.getSampledMetricHistory({ runIds: [runB, runA], key: 'loss', maxPoints: 100, startStep: 2n });
    expect(response.series.map((s) => [s.runId, s.totalPoints])).toEqual([
      [runB, 8n],
      [runA, 24_998n],
    ]);
    expect(response.series[0].metrics.map((m) => Number(m.step))).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const sampled = response.series[1].metrics.map((m) => Number(m.step));
    expect(sampled.length).toBeGreaterThan(50);
    expect(sampled.length).toBeLessThanOrEqual(100);
    expect([sampled[0], sampled[sampled.length - 1]]).toEqual([2, 24_999]);
    const withoutKey = await reader.getSampledMetricHistory({ runIds: [runA, runB], key: 'acc' });
    expect(withoutKey.series.map((s) => s.runId)).toEqual([runB]);
  });

  describe('as packed columns', () => {
    /** Columns as the messages per point the other RPCs answer with. */
    const asMetrics = (columns: MetricColumns | undefined) =>
      (columns?.steps ?? []).map((step, i) => ({ key: columns!.key, step, timestampMs: columns!.timestampsMs[i], value: columns!.values[i] }));
    const plain = (metrics: Metric[]) => metrics.map(({ key, step, timestampMs, value }) => ({ key, step, timestampMs, value }));

    it('pages through a history with tokens, as GetMetricHistory does', async () => {
      const first = await reader.getMetricSeries({ runId: runB, key: 'loss', pageSize: 4 });
      expect(asMetrics(first.points)).toEqual(plain((await reader.getMetricHistory({ runId: runB, key: 'loss', pageSize: 4 })).metrics));
      const rest = await reader.getMetricSeries({ runId: runB, key: 'loss', pageToken: first.nextPageToken });
      expect(rest.points?.steps).toEqual([4n, 5n, 6n, 7n, 8n, 9n]);
      expect(rest.nextPageToken).toBe('');
      expect(asMetrics((await reader.getMetricSeries({ runId: runB, key: 'absent' })).points)).toEqual([]);
    });

    it('streams a whole series in one message per 50,000 points, the same points as StreamMetricHistory', async () => {
      const chunks: MetricColumns[] = [];
      for await (const message of reader.streamMetricSeries({ runId: runA, key: 'loss' })) chunks.push(message.points!);
      expect(chunks.map((chunk) => chunk.steps.length)).toEqual([25_000]);
      const perPoint: Metric[] = [];
      for await (const message of reader.streamMetricHistory({ runId: runA, key: 'loss' })) perPoint.push(...message.metrics);
      expect(asMetrics(chunks[0])).toEqual(plain(perPoint));
    });

    it('samples as GetSampledMetricHistory does, or evenly by step as MLflow', async () => {
      const request = { runIds: [runB, runA], key: 'loss', maxPoints: 100, startStep: 2n };
      const columns = await reader.getSampledMetricSeries(request);
      const perPoint = await reader.getSampledMetricHistory(request);
      expect(columns.series.map((s) => [s.runId, s.totalPoints, asMetrics(s.points)])).toEqual(perPoint.series.map((s) => [s.runId, s.totalPoints, plain(s.metrics)]));
      const even = await reader.getSampledMetricSeries({ runIds: [runB], key: 'loss', maxPoints: 5, sampling: MetricSampling.EVEN_STEPS });
      expect(even.series.map((s) => [s.runId, s.totalPoints, s.points?.steps])).toEqual([[runB, 10n, [0n, 2n, 4n, 6n, 8n, 9n]]]);
      expect((await reader.getSampledMetricSeries({ runIds: [runB], key: 'loss', maxPoints: 1, sampling: MetricSampling.EVEN_STEPS })).series[0].points?.steps).toEqual([0n, 9n]);
    });

    it('answers PERMISSION_DENIED for a run of a project the caller cannot read', async () => {
      expect(await codeOf(reader.getMetricSeries({ runId: hidden, key: 'loss' }))).toBe(status.PERMISSION_DENIED);
      expect(await codeOf(drain(reader.streamMetricSeries({ runId: hidden, key: 'loss' }) as never))).toBe(status.PERMISSION_DENIED);
      expect(await codeOf(reader.getSampledMetricSeries({ runIds: [runA, hidden], key: 'loss', sampling: MetricSampling.EVEN_STEPS }))).toBe(status.PERMISSION_DENIED);
    });

    it.each([
      ['an unknown sampling', () => reader.getSampledMetricSeries({ runIds: [runA], key: 'loss', sampling: 7 as MetricSampling })],
      ['max_points 1 for extremes', () => reader.getSampledMetricSeries({ runIds: [runA], key: 'loss', maxPoints: 1 })],
      ['a page over 25000', () => reader.getMetricSeries({ runId: runA, key: 'loss', pageSize: 25_001 })],
      ['an empty key on a stream', () => drain(reader.streamMetricSeries({ runId: runA, key: '' }) as never)],
    ])('answers INVALID_ARGUMENT for %s', async (_, call) => {
      expect(await codeOf(call())).toBe(status.INVALID_ARGUMENT);
    });
  });

  it('answers PERMISSION_DENIED for a run of a project the caller cannot read, NOT_FOUND for none', async () => {
    expect(await codeOf(reader.getMetricHistory({ runId: hidden, key: 'loss' }))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(reader.getSampledMetricHistory({ runIds: [runA, hidden], key: 'loss' }))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(drain(reader.streamMetricHistory({ runId: hidden, key: 'loss' })))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(outsider.getMetricHistory({ runId: runA, key: 'loss' }))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(reader.getSampledMetricHistory({ runIds: [runA, 'f'.repeat(32)], key: 'loss' }))).toBe(status.NOT_FOUND);
    expect(await codeOf(drain(reader.streamMetricHistory({ runId: 'f'.repeat(32), key: 'loss' })))).toBe(status.NOT_FOUND);
    await expect(reader.getMetricSeries({ runId: 'f'.repeat(32), key: 'loss' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `Run with id=${'f'.repeat(32)} not found`,
      reason: 'RUN_NOT_FOUND',
      domain: 'tracking.trellis',
      resource: `runs/${'f'.repeat(32)}`,
    });
  });

  it.each([
    ['an empty key', () => reader.getMetricHistory({ runId: runA, key: '' })],
    ['a key over 250 characters', () => reader.getSampledMetricHistory({ runIds: [runA], key: 'k'.repeat(251) })],
    ['a page over 25000', () => reader.getMetricHistory({ runId: runA, key: 'loss', pageSize: 25_001 })],
    ['max_points 1', () => reader.getSampledMetricHistory({ runIds: [runA], key: 'loss', maxPoints: 1 })],
    ['max_points over 10000', () => reader.getSampledMetricHistory({ runIds: [runA], key: 'loss', maxPoints: 10_001 })],
    ['no run ids', () => reader.getSampledMetricHistory({ runIds: [], key: 'loss' })],
    ['101 run ids', () => reader.getSampledMetricHistory({ runIds: Array.from({ length: 101 }, () => runA), key: 'loss' })],
    ['end_step below start_step', () => reader.getSampledMetricHistory({ runIds: [runA], key: 'loss', startStep: 5n, endStep: 4n })],
    ['a page token of another key', async () => {
      const { nextPageToken } = await reader.getMetricHistory({ runId: runB, key: 'loss', pageSize: 1 });
      return reader.getMetricHistory({ runId: runB, key: 'acc', pageToken: nextPageToken });
    }],
    ['an empty key on a stream', () => drain(reader.streamMetricHistory({ runId: runA, key: '' }))],
  ])('answers INVALID_ARGUMENT for %s', async (_, call) => {
    expect(await codeOf(call())).toBe(status.INVALID_ARGUMENT);
  });

  describe('StreamMetricHistory with a slow client', () => {
    /** A stand-in for a grpc-js server stream whose client reads only when the test says so. */
    class SlowCall extends EventEmitter {
      writableNeedDrain = true;

      drain(): void {
        this.writableNeedDrain = false;
        this.emit('drain');
      }
    }

    const metadataOf = () => {
      const principal: Principal = { id: 'vic', kind: 'user', orgId: 'org-1', orgAdmin: false, bindings: [{ projectId: 'p1', role: 'viewer' }], expiresAt: Date.now() + 60_000, scoped: false };
      const metadata = new Metadata();
      callContextOf(metadata).caller = new Caller(principal, abilityFor(principal), 'req-slow', undefined, '127.0.0.1:5000');
      return metadata;
    };
    const handler = () => new MetricGrpc(new MetricService(new MetricRepository(service.dataSource), new RunAccess(new RunRepository(service.dataSource))));

    it('reads the next chunk only once the call has drained the last', async () => {
      const call = new SlowCall();
      const sizes: number[] = [];
      let completed = false;
      handler()
        .streamMetricHistory({ runId: runA, key: 'loss' } as never, metadataOf(), call)
        .subscribe({ next: (message: StreamMetricHistoryResponse) => sizes.push(message.metrics.length), complete: () => (completed = true) });
      await eventually(() => expect(sizes).toHaveLength(1));
      // A reader that ignored back pressure would send its next chunk in this time.
      await sleep(200);
      expect(sizes).toEqual([10_000]);
      call.drain();
      await eventually(() => expect(completed).toBe(true));
      expect(sizes).toEqual([10_000, 10_000, 5000]);
    });

    it('stops reading when the client cancels', async () => {
      const call = new SlowCall();
      const sizes: number[] = [];
      const errors: unknown[] = [];
      const subscription = handler()
        .streamMetricHistory({ runId: runA, key: 'loss' } as never, metadataOf(), call)
        .subscribe({ next: (message: StreamMetricHistoryResponse) => sizes.push(message.metrics.length), error: (error: unknown) => errors.push(error) });
      await eventually(() => expect(sizes).toHaveLength(1));
      subscription.unsubscribe();
      call.drain();
      // A reader that kept going after the cancel would send its next chunk in this time.
      await sleep(200);
      expect(sizes).toEqual([10_000]);
      expect(errors).toEqual([]);
    });
  });
});
