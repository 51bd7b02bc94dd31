import { InvalidArgumentError, openDatabase } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { CreateTrackingTables1767500000000 } from '../migrations/1767500000000-create-tracking-tables';
import { CreateMetricTables1767500001000 } from '../migrations/1767500001000-create-metric-tables';
import { MetricRollupTimestamps1767700000000 } from '../migrations/1767700000000-metric-rollup-timestamps';
import { METRIC_ENTITIES } from './metric.entity';
import type { SeriesColumns } from './metric-sampling';
import { MetricRepository, type MetricPoint, type SampleRange } from './metric.repository';
import { RunEntity } from '../runs/run.entity';
import { bucketWidth, ROLLUP_SIZES } from './metric-sampling';

/** A point as the store holds it, to compute samples by brute force. */
interface Logged extends MetricPoint {
  seq: number;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` points of `key` with steps and values from the given functions of their index. */
function series(key: string, count: number, step: (i: number) => number, value: (i: number) => number): MetricPoint[] {
  return Array.from({ length: count }, (_, i) => ({ key, step: step(i), value: value(i), timestampMs: 1_767_000_000_000 + i }));
}

/** Columns of the series `key` as points, to compare with what was logged. */
const pointsOf = (key: string, columns: SeriesColumns): MetricPoint[] =>
  columns.steps.map((step, i) => ({ key, step, timestampMs: columns.timestampsMs[i], value: columns.values[i] }));

const lowerFirst = (a: Logged, b: Logged) => rank(a.value) - rank(b.value) || (Number.isNaN(a.value) ? 0 : a.value - b.value) || a.seq - b.seq;
const higherFirst = (a: Logged, b: Logged) => rank(b.value) - rank(a.value) || (Number.isNaN(a.value) ? 0 : b.value - a.value) || a.seq - b.seq;
const rank = (value: number) => (Number.isNaN(value) ? 1 : 0);
const byStepThenSeq = (a: Logged, b: Logged) => a.step - b.step || a.seq - b.seq;

/**
 * The documented sample, computed from every point: the range's points in buckets of
 * `bucketWidth` seq, each bucket's lowest and highest point (NaN highest, ties to the first
 * logged), the first and last logged point of the range, ordered by step then seq.
 */
function bruteForceSample(points: Logged[], range: SampleRange): { points: MetricPoint[]; totalPoints: number } {
  const inRange = points.filter((p) => (range.startStep === undefined || p.step >= range.startStep) && (range.endStep === undefined || p.step <= range.endStep));
  const strip = (list: Logged[]) => [...list].sort(byStepThenSeq).map(({ key, value, timestampMs, step }) => ({ key, value, timestampMs, step }));
  if (inRange.length <= range.maxPoints) return { points: strip(inRange), totalPoints: inRange.length };
  const first = inRange[0];
  const last = inRange[inRange.length - 1];
  const kept = new Map<number, Logged>([[first.seq, first], [last.seq, last]]);
  if (range.maxPoints >= 4) {
    const width = bucketWidth(first.seq, last.seq, range.maxPoints);
    const buckets = new Map<number, Logged[]>();
    for (const point of inRange) {
      const bucket = Math.floor(point.seq / width);
      const members = buckets.get(bucket);
      if (members) members.push(point);
      else buckets.set(bucket, [point]);
    }
    for (const members of buckets.values()) {
      const lowest = [...members].sort(lowerFirst)[0];
      const highest = [...members].sort(higherFirst)[0];
      kept.set(lowest.seq, lowest).set(highest.seq, highest);
    }
  }
  return { points: strip([...kept.values()]), totalPoints: inRange.length };
}

describe.each(['postgres', 'sqlite'] as const)('MetricRepository on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;
  let store: MetricRepository;
  let runs = 0;

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'tracking',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      entities: [RunEntity, ...METRIC_ENTITIES],
      migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000],
    });
    store = new MetricRepository(dataSource);
    await dataSource.transaction((m) =>
      m.query(
        sql(`INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
        ['p1', 'metrics', 'file:///tmp', 'active', 0, 0],
      ),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const sql = (text: string) => {
    let n = 0;
    return kind === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text;
  };

  async function newRun(): Promise<string> {
    const id = `${kind === 'postgres' ? 'a' : 'b'}${String(++runs).padStart(31, '0')}`;
    await dataSource.transaction(async (m) => {
      const [experiment] = (await m.query(`SELECT id FROM experiments`)) as Array<{ id: number }>;
      await m.query(
        sql(`INSERT INTO runs (id, experiment_id, project_id, name, user_id, status, start_time, artifact_uri, artifact_store, lifecycle_stage)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
        [id, experiment.id, 'p1', 'run', 'alice', 'RUNNING', 0, 'file:///tmp', 'default', 'active'],
      );
    });
    return id;
  }

  /** Appends in transactions of `batch` points, as LogBatch would, and returns the points with their seq. */
  async function log(runId: string, points: MetricPoint[], batch = 1000): Promise<Logged[]> {
    for (let i = 0; i < points.length; i += batch) {
      await dataSource.transaction((m) => store.append(m, runId, points.slice(i, i + batch)));
    }
    const seqs = new Map<string, number>();
    return points.map((point) => {
      const seq = seqs.get(point.key) ?? 0;
      seqs.set(point.key, seq + 1);
      return { ...point, seq };
    });
  }

  async function wholeHistory(runId: string, key: string, pageSize = 25_000): Promise<MetricPoint[]> {
    const all: MetricPoint[] = [];
    let pageToken = '';
    do {
      const page = await store.history(runId, key, { pageSize, pageToken });
      all.push(...pointsOf(key, page.points));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return all;
  }

  const storedSeqs = async (runId: string, key: string) =>
    ((await dataSource.transaction((m) =>
      m.query(sql(`SELECT p.seq FROM metric_points p JOIN metric_series s ON s.id = p.series_id WHERE s.run_id = ? AND s.key = ? ORDER BY p.seq`), [runId, key]),
    )) as Array<{ seq: string | number }>).map((row) => Number(row.seq));

  it('reads back every point of every key in logged order, NaN and infinities included', async () => {
    const runId = await newRun();
    const values = [0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-300, -1.7976931348623157e308, 3];
    const points = values.flatMap((value, i) => [
      { key: 'loss', value, step: i, timestampMs: 1_767_225_600_123 + i },
      { key: 'eval/acc 1', value: -value, step: 10 - i, timestampMs: 1_767_225_600_000 },
    ]);
    await log(runId, points);
    expect(await wholeHistory(runId, 'loss')).toEqual(points.filter((p) => p.key === 'loss'));
    expect(await wholeHistory(runId, 'eval/acc 1')).toEqual(points.filter((p) => p.key === 'eval/acc 1'));
    expect(await wholeHistory(runId, 'never logged')).toEqual([]);
  });

  it('numbers points from 0 across batches and pages through them with tokens', async () => {
    const runId = await newRun();
    const points = series('loss', 2500, (i) => i, (i) => Math.sin(i));
    await log(runId, points, 700);
    expect(await storedSeqs(runId, 'loss')).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(await wholeHistory(runId, 'loss', 333)).toEqual(points);
    const last = await store.history(runId, 'loss', { pageSize: 2500, pageToken: '' });
    expect(last.nextPageToken).toBe('');
  });

  it('refuses a page token of another series or not made by it, naming page_token', async () => {
    const runId = await newRun();
    await log(runId, [...series('a', 5, (i) => i, (i) => i), ...series('b', 5, (i) => i, (i) => i)]);
    const { nextPageToken } = await store.history(runId, 'a', { pageSize: 2, pageToken: '' });
    expect(nextPageToken).not.toBe('');
    for (const [key, pageToken] of [['b', nextPageToken], ['a', 'bm90IGEgdG9rZW4'], ['a', Buffer.from('{"a":"0","q":"x"}').toString('base64url')]]) {
      const error = await store.history(runId, key, { pageSize: 2, pageToken }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe('page_token');
    }
  });

  it("keeps MLflow's latest point of each key: highest step, then timestamp, then value", async () => {
    const runId = await newRun();
    const quiet = await newRun();
    const at = (key: string, step: number, timestampMs: number, value: number) => ({ key, step, timestampMs, value });
    await log(runId, [at('step wins', 5, 100, 1), at('step wins', 4, 900, 9), at('time wins', 2, 100, 9), at('time wins', 2, 200, 1)]);
    await log(runId, [at('value wins', 1, 100, 1), at('value wins', 1, 100, 3), at('value wins', 1, 100, 2), at('step wins', 3, 999, 99)]);
    await log(runId, [at('nan stays', 1, 100, Number.NaN), at('nan stays', 1, 100, 5), at('nan latest', 1, 100, 5), at('nan latest', 2, 50, Number.NaN)]);
    const latest = await store.latestFor([runId, quiet, 'missing']);
    expect(latest.has(quiet)).toBe(false);
    expect(latest.get(runId)).toEqual([
      at('nan latest', 2, 50, Number.NaN),
      at('nan stays', 1, 100, Number.NaN),
      at('step wins', 5, 100, 1),
      at('time wins', 2, 200, 1),
      at('value wins', 1, 100, 3),
    ]);
    const inTransaction = await dataSource.transaction((m) => store.latestFor([runId], m));
    expect(inTransaction.get(runId)).toEqual(latest.get(runId));
  });

  it('gives concurrent appends to the same series distinct, gapless seq and consistent rollups', async () => {
    const runId = await newRun();
    const writers = 6;
    const batches = 8;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let b = 0; b < batches; b++) {
          const points = [...series('shared', 300, () => writer * 1000 + b, (i) => i), ...series(`own-${writer}`, 50, (i) => b * 50 + i, (i) => i)];
          await dataSource.transaction((m) => store.append(m, runId, points));
        }
      }),
    );
    const total = writers * batches * 300;
    expect(await storedSeqs(runId, 'shared')).toEqual(Array.from({ length: total }, (_, i) => i));
    const history = await wholeHistory(runId, 'shared');
    // Each batch's 300 points stay together and in order.
    for (let i = 0; i < total; i += 300) expect(new Set(history.slice(i, i + 300).map((p) => p.step)).size).toBe(1);
    const levels = (await dataSource.transaction((m) =>
      m.query(
        sql(`SELECT r.level, sum(r.count) AS n, count(*) AS blocks FROM metric_rollups r JOIN metric_series s ON s.id = r.series_id
             WHERE s.run_id = ? AND s.key = ? GROUP BY r.level ORDER BY r.level`),
        [runId, 'shared'],
      ),
    )) as Array<{ level: number; n: string | number; blocks: string | number }>;
    expect(levels.map((row) => [Number(row.level), Number(row.n), Number(row.blocks)])).toEqual(
      ROLLUP_SIZES.map((size, level) => [level, total, Math.ceil(total / size)]),
    );
    expect((await store.sample(runId, 'shared', { maxPoints: 10 }))?.totalPoints).toBe(total);
  });

  it('makes a second transaction appending to a series wait for the first to commit', async () => {
    const runId = await newRun();
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let appended = () => undefined as void;
    const firstAppended = new Promise<void>((resolve) => (appended = resolve));
    const first = dataSource.transaction(async (m) => {
      await store.append(m, runId, series('new', 100, () => 1, (i) => i));
      appended();
      await held;
    });
    await firstAppended;
    let secondDone = false;
    const second = dataSource.transaction((m) => store.append(m, runId, series('new', 100, () => 2, (i) => i))).then(() => (secondDone = true));
    await sleep(300);
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    const history = await wholeHistory(runId, 'new');
    expect(history.map((p) => p.step)).toEqual([...Array(100).fill(1), ...Array(100).fill(2)]);
    expect(await storedSeqs(runId, 'new')).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  describe('points identical to stored ones (same key, step, timestamp and value), as MLflow stores them once', () => {
    /** What a run answers: every page of history, the latest points, and samples whole and over a step range. */
    const readings = async (runId: string, keys: string[]) => ({
      histories: await Promise.all(keys.map((key) => wholeHistory(runId, key))),
      latest: (await store.latestFor([runId])).get(runId),
      samples: await Promise.all(
        keys.flatMap((key) => [store.sample(runId, key, { maxPoints: 100 }), store.sample(runId, key, { startStep: 700, endStep: 4100, maxPoints: 100 })]),
      ),
      stepSamples: (await store.sampleSteps([runId], 'loss', { maxPoints: 100 })).get(runId),
    });

    it('reads a run sent a batch twice, or a part of it again, as a run sent it once: history, latest, rollup samples', async () => {
      const batch = [
        ...series('loss', 5000, (i) => i, (i) => (i % 97 === 0 ? Number.NaN : Math.sin(i / 40))),
        ...series('acc', 1000, () => 0, (i) => i / 1000),
      ];
      const once = await newRun();
      await log(once, batch);
      const repeated = await newRun();
      await log(repeated, batch);
      await log(repeated, batch);
      await log(repeated, batch.slice(1200, 2600), 700);

      expect(await readings(repeated, ['loss', 'acc'])).toEqual(await readings(once, ['loss', 'acc']));
      expect(await storedSeqs(repeated, 'loss')).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    });

    it('stores a point repeated within one batch once, NaN equal to NaN, and keeps points that differ in step, timestamp or value', async () => {
      const runId = await newRun();
      const point = { key: 'loss', step: 3, timestampMs: 1_767_000_000_000, value: 0.25 };
      const nan = { ...point, step: 4, value: Number.NaN };
      const others = [
        { ...point, step: 2 },
        { ...point, timestampMs: point.timestampMs + 1 },
        { ...point, value: 0.5 },
      ];
      await log(runId, [point, nan, point, nan, ...others, { ...point }]);
      await log(runId, [nan, point, ...others]);

      expect(await wholeHistory(runId, 'loss')).toEqual([point, nan, ...others]);
      expect((await store.sample(runId, 'loss', { maxPoints: 10 }))?.totalPoints).toBe(5);
    });

    it('stores a batch that concurrent transactions append at once a single time', async () => {
      const runId = await newRun();
      const batch = series('loss', 300, (i) => i, (i) => i / 3);
      await Promise.all(Array.from({ length: 4 }, () => dataSource.transaction((m) => store.append(m, runId, batch))));

      expect(await wholeHistory(runId, 'loss')).toEqual(batch);
      expect(await storedSeqs(runId, 'loss')).toEqual(Array.from({ length: 300 }, (_, i) => i));
    });
  });

  describe('sampling', () => {
    const next = random(42);
    let walk = 0;
    const shapes: Record<string, MetricPoint[]> = {
      dense: series('dense', 20_000, (i) => i, () => (walk += next() - 0.5)),
      spikes: series('spikes', 20_000, (i) => i, (i) =>
        i === 2222 || i === 5100 ? Number.NaN : i === 12_345 ? Number.POSITIVE_INFINITY : i === 15_000 ? -1e300 : i % 4000 === 3 ? 50 : Math.cos(i / 100),
      ),
      sparse: series('sparse', 20_000, (i) => i * 1000 + Math.floor(next() * 10), (i) => Math.sqrt(i) * (next() < 0.5 ? -1 : 1)),
      flat: series('flat', 5000, (i) => Math.floor(i / 3), () => 1),
      // Training resumed from a checkpoint: steps go back once.
      resumed: series('resumed', 20_000, (i) => (i < 12_000 ? i : i - 5000), () => next()),
      short: series('short', 40, (i) => (i * 7) % 40, (i) => i % 5),
    };
    let runId: string;
    let smoothRun: string;
    const logged: Record<string, Logged[]> = {};

    beforeAll(async () => {
      runId = await newRun();
      for (const [key, points] of Object.entries(shapes)) logged[key] = await log(runId, points);
      smoothRun = await newRun();
      await log(smoothRun, series('rising', 10_000, (i) => i, (i) => i));
    });

    const cases: Array<[string, SampleRange, string]> = [
      ['dense', { maxPoints: 10 }, 'whole series from rollups'],
      ['dense', { maxPoints: 1000 }, 'whole series, buckets narrower than a block'],
      ['dense', { maxPoints: 100 }, 'whole series from the smallest rollups'],
      ['dense', { startStep: 1500, endStep: 17_777, maxPoints: 100 }, 'a step range from the smallest rollups and edge points'],
      ['dense', { maxPoints: 5 }, 'two buckets, from rollups'],
      ['dense', { maxPoints: 2 }, 'first and last only'],
      ['dense', { startStep: 1500, endStep: 17_777, maxPoints: 10 }, 'a step range cutting blocks, from rollups and edge points'],
      ['dense', { startStep: 1500, endStep: 2600, maxPoints: 5 }, 'two buckets in a step range inside two blocks'],
      ['dense', { startStep: 1500, endStep: 2600, maxPoints: 10 }, 'a short step range'],
      ['dense', { startStep: 30_000, maxPoints: 10 }, 'a step range past the end'],
      ['spikes', { maxPoints: 10 }, 'spikes and NaN from rollups'],
      ['spikes', { maxPoints: 100 }, 'spikes and NaN from the smallest rollups'],
      ['spikes', { startStep: 3000, endStep: 3200, maxPoints: 100 }, 'spikes and NaN from points'],
      ['spikes', { startStep: 7000, endStep: 13_000, maxPoints: 8 }, 'spikes in a step range'],
      ['spikes', { startStep: 4096, endStep: 6000, maxPoints: 5 }, 'a NaN logged into a block a previous batch started'],
      ['sparse', { startStep: 3_456_789, endStep: 15_000_000, maxPoints: 12 }, 'sparse steps in a range'],
      ['sparse', { endStep: 5_000_000, maxPoints: 300 }, 'sparse steps up to a step'],
      ['flat', { maxPoints: 20 }, 'equal values keep the first logged'],
      ['flat', { maxPoints: 6 }, 'equal values keep the first logged, from rollups'],
      ['flat', { startStep: 10, endStep: 1000, maxPoints: 30 }, 'equal steps at the range ends'],
      ['resumed', { maxPoints: 10 }, 'steps that go back, whole'],
      ['resumed', { startStep: 6000, endStep: 9000, maxPoints: 40 }, 'steps that go back, in a range'],
      ['resumed', { startStep: 6000, maxPoints: 6 }, 'steps that go back, from a step'],
      ['short', { maxPoints: 1000 }, 'fewer points than asked for'],
      ['short', { startStep: 10, endStep: 20, maxPoints: 4 }, 'fewer points in a range than asked for, out of step order'],
    ];

    it.each(cases)('samples %s %j like a brute-force computation (%s)', async (key, range) => {
      const sampled = await store.sample(runId, key, range);
      const expected = bruteForceSample(logged[key], range);
      expect(sampled?.totalPoints).toBe(expected.totalPoints);
      expect(pointsOf(key, sampled!.points)).toEqual(expected.points);
      expect(sampled!.points.steps.length).toBeLessThanOrEqual(Math.max(range.maxPoints, 10));
    });

    it.each([4, 5, 6, 7])('keeps about max_points points when max_points is as small as %d', async (maxPoints) => {
      for (const key of ['dense', 'spikes', 'resumed']) {
        const kept = (await store.sample(runId, key, { maxPoints }))!.points.steps.length;
        expect(kept).toBeGreaterThanOrEqual(4);
        expect(kept).toBeLessThanOrEqual(10);
      }
      const rising = (await store.sample(smoothRun, 'rising', { maxPoints }))!.points.steps;
      expect(rising.length).toBeGreaterThanOrEqual(maxPoints - 1);
      expect(rising.length).toBeLessThanOrEqual(maxPoints + 1);
    });

    it('keeps the lowest and highest points of the range, so spikes survive', async () => {
      // Buckets of 7168 points: the NaN, the infinity and the negative spike each fall in another.
      const sampled = await store.sample(runId, 'spikes', { maxPoints: 10 });
      const values = sampled!.points.values;
      expect(values).toEqual(expect.arrayContaining([Number.NaN, Number.POSITIVE_INFINITY, -1e300]));
    });

    it('answers undefined for a key the run never logged', async () => {
      expect(await store.sample(runId, 'nope', { maxPoints: 10 })).toBeUndefined();
    });
  });

  describe('sampling evenly by step, as MLflow', () => {
    const runs: Array<{ runId: string; points: Logged[] }> = [];
    const next = random(7);

    beforeAll(async () => {
      const shapes = [
        series('loss', 10, (i) => i, (i) => 10 - i),
        series('loss', 20_000, (i) => i * 2, () => next()),
        series('loss', 3000, (i) => (i < 2000 ? i * 3 : (i - 1000) * 3 + 1), () => next()),
        series('loss', 50, (i) => 40_000 + i, (i) => (i === 7 ? Number.NaN : i)),
      ];
      for (const points of shapes) {
        const runId = await newRun();
        runs.push({ runId, points: await log(runId, points, 5000) });
      }
      await log(runs[0].runId, series('other', 5, (i) => i, (i) => i));
    });

    /**
     * MLflow's get-history-bulk-interval, from every point: the distinct steps of the runs in the
     * range, evenly chosen, with each run's lowest and highest step when in the range; then each
     * run's points at those steps by step, timestamp and value.
     */
    function mlflowSample(chosen: Array<{ runId: string; points: Logged[] }>, range: SampleRange) {
      const within = (step: number) => (range.startStep === undefined || step >= range.startStep) && (range.endStep === undefined || step <= range.endStep);
      const distinct = [...new Set(chosen.flatMap(({ points }) => points.map((p) => p.step)).filter(within))].sort((a, b) => a - b);
      const kept = new Set<number>();
      if (distinct.length <= range.maxPoints) distinct.forEach((step) => kept.add(step));
      else {
        const interval = distinct.length / range.maxPoints;
        for (let i = 0; i < range.maxPoints; i++) kept.add(distinct[Math.floor(i * interval)]);
        kept.add(distinct[distinct.length - 1]);
      }
      for (const { points } of chosen) {
        const steps = points.map((p) => p.step);
        for (const step of [Math.min(...steps), Math.max(...steps)]) if (within(step)) kept.add(step);
      }
      return chosen.map(({ runId, points }) => ({
        runId,
        totalPoints: points.filter((p) => within(p.step)).length,
        points: points
          .filter((p) => kept.has(p.step))
          .sort((a, b) => a.step - b.step || a.timestampMs - b.timestampMs || a.value - b.value)
          .map(({ key, value, timestampMs, step }) => ({ key, value, timestampMs, step })),
      }));
    }

    it('keeps the first, evenly spaced and last steps of a short series: 10 steps to 5 gives 0, 2, 4, 6, 8 and 9', async () => {
      const sampled = await store.sampleSteps([runs[0].runId], 'loss', { startStep: 0, maxPoints: 5 });
      expect(sampled.get(runs[0].runId)?.points.steps).toEqual([0, 2, 4, 6, 8, 9]);
      expect(sampled.get(runs[0].runId)?.points.values).toEqual([10, 8, 6, 4, 2, 1]);
    });

    it.each<[string, number[], SampleRange]>([
      ['one long run', [1], { startStep: 0, maxPoints: 320 }],
      ['runs whose steps differ, lined up on shared steps', [0, 1, 2, 3], { startStep: 0, maxPoints: 100 }],
      ['a step range inside every run', [1, 2], { startStep: 1000, endStep: 5000, maxPoints: 50 }],
      ['a step range that leaves out some runs', [0, 2, 3], { startStep: 5, endStep: 40_010, maxPoints: 7 }],
      ['one point per run', [1, 2, 3], { startStep: 0, maxPoints: 1 }],
      ['more points than the series have', [0, 3], { maxPoints: 10_000 }],
    ])('samples %s as MLflow does', async (_, which, range) => {
      const chosen = which.map((i) => runs[i]);
      const sampled = await store.sampleSteps(
        chosen.map(({ runId }) => runId),
        'loss',
        range,
      );
      for (const { runId, totalPoints, points } of mlflowSample(chosen, range)) {
        expect(sampled.get(runId)?.totalPoints).toBe(totalPoints);
        expect(pointsOf('loss', sampled.get(runId)!.points)).toEqual(points);
      }
    });

    it('leaves out runs without the series', async () => {
      const sampled = await store.sampleSteps([runs[1].runId, runs[0].runId], 'other', { maxPoints: 3 });
      expect([...sampled.keys()]).toEqual([runs[0].runId]);
      expect(sampled.get(runs[0].runId)?.points.steps).toEqual([0, 1, 3, 4]);
      expect((await store.sampleSteps([runs[1].runId], 'other', { maxPoints: 3 })).size).toBe(0);
    });
  });

  it('streams a long series in chunks of keyset pages, holding no transaction between them', async () => {
    const runId = await newRun();
    const points = series('long', 25_000, (i) => i, (i) => i / 3);
    await log(runId, points, 5000);
    const chunks: MetricPoint[][] = [];
    for await (const chunk of store.stream(runId, 'long', 10_000)) {
      chunks.push(pointsOf('long', chunk));
      // Another writer gets through while the reader is between chunks; what it adds is not streamed.
      if (chunks.length === 1) await dataSource.transaction((m) => store.append(m, runId, series('long', 10, () => 99_999, () => 0)));
    }
    expect(chunks.map((chunk) => chunk.length)).toEqual([10_000, 10_000, 5000]);
    expect(chunks.flat()).toEqual(points);
    const none: SeriesColumns[] = [];
    for await (const chunk of store.stream(runId, 'absent')) none.push(chunk);
    expect(none).toEqual([]);
  });

  it('removes the series, points and rollups of a deleted run', async () => {
    const runId = await newRun();
    await log(runId, series('gone', 3000, (i) => i, (i) => i));
    await dataSource.transaction((m) => m.query(sql(`DELETE FROM runs WHERE id = ?`), [runId]));
    const count = async (table: string) =>
      Number(((await dataSource.transaction((m) => m.query(`SELECT count(*) AS n FROM ${table} WHERE series_id NOT IN (SELECT id FROM metric_series)`))) as Array<{ n: string }>)[0].n);
    expect(await count('metric_points')).toBe(0);
    expect(await count('metric_rollups')).toBe(0);
    expect(await store.sample(runId, 'gone', { maxPoints: 10 })).toBeUndefined();
  });
});
