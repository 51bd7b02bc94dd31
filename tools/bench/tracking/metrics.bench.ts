// Tracking metric figures on PostgreSQL, in one run on a fresh database:
// (a) ingest: BENCH_WRITERS concurrent writers, each logging to its own run batches of 1000 points
//     (10 keys x 100 steps, as MLflow's log-batch sends them) through MetricRepository.append in a
//     transaction each, against a baseline of the same rows (seq assigned up front) inserted by as
//     many pg clients with one INSERT ... SELECT FROM unnest(...) per batch into a bare table with
//     the same columns and primary key; rounds alternate, medians. Also all writers on one series.
// (b) one series of BENCH_SERIES_POINTS (default 1,000,000) points: a sample to 1000 points, p50/p99,
//     whole and over a step range cutting blocks, against a plain GROUP BY over the raw points
//     (min and max value per bucket, without finding which points they are); and the fallback path
//     (a step range of a series whose steps went back) on a second series of the same size.
// (c) the whole of that series through MetricRepository.stream (chunks of 10,000 points as columns): time and peak RSS
//     growth, against reading all of it with one query; each in a fresh process.
// Run: node tools/bench/run.cjs tools/bench/tracking/metrics.bench.ts
import 'reflect-metadata';
import { openDatabase } from '@trellis/platform';
import { createTestDatabase } from '@trellis/testing';
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { METRIC_ENTITIES } from '../../../libs/tracking/src/metrics/metric.entity';
import { MetricRepository, type MetricPoint } from '../../../libs/tracking/src/metrics/metric.repository';
import { CreateTrackingTables1767500000000 } from '../../../libs/tracking/src/migrations/1767500000000-create-tracking-tables';
import { CreateMetricTables1767500001000 } from '../../../libs/tracking/src/migrations/1767500001000-create-metric-tables';
import { MetricRollupTimestamps1767700000000 } from '../../../libs/tracking/src/migrations/1767700000000-metric-rollup-timestamps';
import { RunEntity } from '../../../libs/tracking/src/runs/run.entity';

const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERIES_POINTS = Number(process.env.BENCH_SERIES_POINTS ?? 1_000_000);
const READS = Number(process.env.BENCH_READS ?? 200);
const BASELINE_READS = Number(process.env.BENCH_BASELINE_READS ?? 20);
const BATCH = 1000;
const KEYS = 10;
const TARGET_INGEST = 100_000;
const TARGET_SAMPLE_MS = 50;

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function latencies(count: number, work: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push((await seconds(work)) * 1000);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** One log-batch: KEYS metrics at 100 consecutive steps from `firstStep`. */
function batchAt(firstStep: number, keyPrefix = 'metric'): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let s = 0; s < BATCH / KEYS; s++) {
    for (let k = 0; k < KEYS; k++) {
      const step = firstStep + s;
      points.push({ key: `${keyPrefix}_${k}`, step, timestampMs: 1_767_225_600_000 + step, value: Math.sin(step / 50 + k) + Math.random() / 10 });
    }
  }
  return points;
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const dataSource: DataSource = await openDatabase({
    service: 'tracking',
    database: database.config,
    entities: [RunEntity, ...METRIC_ENTITIES],
    migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000],
  });
  const pool = new Pool({ connectionString: database.config.url, max: WRITERS });
  const store = new MetricRepository(dataSource);
  let runs = 0;
  const newRun = async () => {
    const id = (++runs).toString(16).padStart(32, '0');
    await pool.query(
      `INSERT INTO runs (id, experiment_id, project_id, name, user_id, status, start_time, artifact_uri, artifact_store, lifecycle_stage)
       VALUES ($1, 1, 'p1', 'bench', 'bench', 'RUNNING', 0, '', 'default', 'active')`,
      [id],
    );
    return id;
  };
  try {
    const [{ server_version: pgVersion }] = (await pool.query('SHOW server_version')).rows;
    console.log('tracking metrics benchmark');
    console.log(`  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB memory`);
    console.log(`  PostgreSQL ${pgVersion} at ${new URL(database.config.url).host}, fresh database, default settings`);
    await pool.query(`INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES ('p1', 'bench', '', 'active', 0, 0)`);
    await pool.query(`CREATE TABLE metric_points_baseline (series_id int, seq bigint, step bigint, "timestamp" bigint, value float8, PRIMARY KEY (series_id, seq))`);

    // (a) ingest
    const appendBatch = (runId: string, points: MetricPoint[]) => dataSource.transaction((m) => store.append(m, runId, points));
    let baselineSeries = 0;
    const baselineBatch = (seriesBase: number, firstSeq: number, points: MetricPoint[]) => {
      const seriesIds: number[] = [];
      const seqs: number[] = [];
      points.forEach((point, i) => {
        seriesIds.push(seriesBase + (i % KEYS));
        seqs.push(firstSeq + Math.floor(i / KEYS));
      });
      const literal = (values: number[]) => `{${values.join(',')}}`;
      return pool.query(`INSERT INTO metric_points_baseline SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[])`, [
        literal(seriesIds),
        literal(seqs),
        literal(points.map((p) => p.step)),
        literal(points.map((p) => p.timestampMs)),
        literal(points.map((p) => p.value)),
      ]);
    };
    const storeRound = async (sameSeries: boolean) => {
      const batches = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: BATCHES }, (__, b) => batchAt((b * WRITERS + w) * (BATCH / KEYS))));
      const runIds = sameSeries ? Array(WRITERS).fill(await newRun()) : await Promise.all(Array.from({ length: WRITERS }, newRun));
      return seconds(() => Promise.all(batches.map(async (list, w) => { for (const points of list) await appendBatch(runIds[w], points); })));
    };
    const baselineRound = async () => {
      const batches = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: BATCHES }, (__, b) => batchAt((b * WRITERS + w) * (BATCH / KEYS))));
      const bases = batches.map(() => (baselineSeries += KEYS));
      return seconds(() => Promise.all(batches.map(async (list, w) => { for (const [b, points] of list.entries()) await baselineBatch(bases[w], b * (BATCH / KEYS), points); })));
    };
    // Warm up both paths (plan caches, pool connections) on rows that stay but are not timed.
    await storeRound(false);
    await baselineRound();
    const storeTimes: number[] = [];
    const baselineTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineTimes.push(await baselineRound());
      storeTimes.push(await storeRound(false));
    }
    const contended = await storeRound(true);
    const perRound = WRITERS * BATCHES * BATCH;
    const storeRate = perRound / median(storeTimes);
    const baselineRate = perRound / median(baselineTimes);
    console.log(`\n(a) ingest: ${WRITERS} writers x ${BATCHES} batches of ${BATCH} points (${KEYS} keys x ${BATCH / KEYS} steps), ${ROUNDS} rounds, medians`);
    console.log(`  MetricRepository.append  ${fmt(storeRate).padStart(9)} points/s  (${median(storeTimes).toFixed(2)} s per ${fmt(perRound)} points; each writer its own run)`);
    console.log(`  baseline            ${fmt(baselineRate).padStart(9)} points/s  (${median(baselineTimes).toFixed(2)} s; pg unnest INSERT, seq given, PK only)`);
    console.log(`  ratio               ${(storeRate / baselineRate).toFixed(2)}  store/baseline`);
    console.log(`  one run, same keys  ${fmt(perRound / contended).padStart(9)} points/s  (all ${WRITERS} writers queue on the same 10 series)`);
    console.log(`  target >= ${fmt(TARGET_INGEST)} points/s through the store: ${storeRate >= TARGET_INGEST ? 'met' : 'NOT met'}`);

    // (b) sampled reads of a long series
    const buildSeries = async (step: (i: number) => number) => {
      const runId = await newRun();
      for (let start = 0; start < SERIES_POINTS; start += 10_000) {
        const points = Array.from({ length: Math.min(10_000, SERIES_POINTS - start) }, (_, i) => {
          const at = start + i;
          return { key: 'loss', step: step(at), timestampMs: 1_767_225_600_000 + at, value: Math.exp(-at / 300_000) + Math.random() / 20 };
        });
        await appendBatch(runId, points);
      }
      return runId;
    };
    let longRun = '';
    const built = await seconds(async () => (longRun = await buildSeries((i) => i)));
    const resumedRun = await buildSeries((i) => (i < SERIES_POINTS * 0.6 ? i : i - SERIES_POINTS * 0.3));
    await pool.query('VACUUM ANALYZE metric_points');
    await pool.query('VACUUM ANALYZE metric_rollups');
    const [{ id: seriesId }] = (await pool.query(`SELECT id FROM metric_series WHERE run_id = $1 AND key = 'loss'`, [longRun])).rows;
    const range = { startStep: Math.floor(SERIES_POINTS * 0.123457), endStep: Math.floor(SERIES_POINTS * 0.876543) };
    for (let i = 0; i < 5; i++) await store.sample(longRun, 'loss', { maxPoints: 1000 });
    const whole = await latencies(READS, () => store.sample(longRun, 'loss', { maxPoints: 1000 }));
    const ranged = await latencies(READS, () => store.sample(longRun, 'loss', { ...range, maxPoints: 1000 }));
    const fallback = await latencies(Math.max(5, Math.floor(BASELINE_READS / 2)), () => store.sample(resumedRun, 'loss', { ...range, maxPoints: 1000 }));
    const groupBy = await latencies(BASELINE_READS, () =>
      pool.query(`SELECT seq / 2048 AS bucket, min(value), max(value) FROM metric_points WHERE series_id = $1 GROUP BY 1`, [seriesId]),
    );
    const sample = await store.sample(longRun, 'loss', { maxPoints: 1000 });
    console.log(`\n(b) one series of ${fmt(SERIES_POINTS)} points (built in ${built.toFixed(1)} s by appends of 10,000), sampled to 1000 points`);
    console.log(`  whole series        p50 ${whole.p50.toFixed(2)} ms  p99 ${whole.p99.toFixed(2)} ms  (${READS} reads; ${sample?.points.steps.length} points; rollups)`);
    console.log(`  step range          p50 ${ranged.p50.toFixed(2)} ms  p99 ${ranged.p99.toFixed(2)} ms  (steps ${fmt(range.startStep)}-${fmt(range.endStep)}; rollups, under 64 points read at each end)`);
    console.log(`  baseline GROUP BY   p50 ${groupBy.p50.toFixed(2)} ms  p99 ${groupBy.p99.toFixed(2)} ms  (${BASELINE_READS} reads; min/max value per bucket of 2048, points not identified)`);
    console.log(`  ratio               ${(groupBy.p50 / whole.p50).toFixed(1)}x faster at p50 (whole series vs GROUP BY)`);
    console.log(`  fallback            p50 ${fallback.p50.toFixed(2)} ms  p99 ${fallback.p99.toFixed(2)} ms  (same step range, a series whose steps went back: scans the range)`);
    console.log(`  target < ${TARGET_SAMPLE_MS} ms: ${whole.p99 < TARGET_SAMPLE_MS && ranged.p99 < TARGET_SAMPLE_MS ? 'met' : 'NOT met'} (p99, whole and step range)`);

    // (c) full history, each way in a fresh process so that one's garbage does not hide the other's peak
    const stream = await fullHistoryIn('stream', database.config.url, longRun, seriesId);
    const streamLive = await fullHistoryIn('stream-gc', database.config.url, longRun, seriesId);
    const oneQuery = await fullHistoryIn('query', database.config.url, longRun, seriesId);
    console.log(`\n(c) full history of the ${fmt(SERIES_POINTS)}-point series, each in a fresh process`);
    console.log(`  stream (chunks of 10,000)  ${stream.seconds.toFixed(2)} s  ${fmt(SERIES_POINTS / stream.seconds)} points/s  peak RSS +${mib(stream.peakGrowth)} MiB (garbage the GC had not yet collected included)`);
    console.log(`  same, full GC per chunk    ${streamLive.seconds.toFixed(2)} s  peak RSS +${mib(streamLive.peakGrowth)} MiB (what a chunk keeps alive)`);
    console.log(`  one query (baseline)       ${oneQuery.seconds.toFixed(2)} s  ${fmt(SERIES_POINTS / oneQuery.seconds)} points/s  peak RSS +${mib(oneQuery.peakGrowth)} MiB`);
  } finally {
    await pool.end();
    await dataSource.destroy();
    await database.drop();
  }
}

/** Runs this file again as `full-history <how> <url> <run> <series>` and reads its figures. */
async function fullHistoryIn(how: 'stream' | 'stream-gc' | 'query', url: string, runId: string, seriesId: number): Promise<{ seconds: number; peakGrowth: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', join(__dirname, '..', 'run.cjs'), __filename, 'full-history', how, url, runId, String(seriesId)], {
    maxBuffer: 2 ** 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

/** The child of fullHistoryIn: reads the series one way and prints its time and peak RSS growth. */
async function fullHistory(how: string, url: string, runId: string, seriesId: number): Promise<void> {
  const dataSource = await openDatabase({ service: 'tracking', database: { type: 'postgres', url }, entities: [RunEntity, ...METRIC_ENTITIES], migrations: [] });
  await dataSource.query('SELECT 1');
  const before = process.memoryUsage().rss;
  let count = 0;
  const took = await seconds(async () => {
    if (how === 'query') {
      count = (await dataSource.query(`SELECT seq, step, "timestamp", value FROM metric_points WHERE series_id = $1 ORDER BY seq`, [seriesId])).length;
      return;
    }
    for await (const chunk of new MetricRepository(dataSource).stream(runId, 'loss')) {
      count += chunk.steps.length;
      if (how === 'stream-gc') (globalThis as { gc?: () => void }).gc?.();
    }
  });
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - before;
  await dataSource.destroy();
  if (count !== SERIES_POINTS) throw new Error(`read ${count} points, expected ${SERIES_POINTS}`);
  console.log(JSON.stringify({ seconds: took, peakGrowth }));
}

const [mode, ...args] = process.argv.slice(2);
(mode === 'full-history' ? fullHistory(args[0], args[1], args[2], Number(args[3])) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
