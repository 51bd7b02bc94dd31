// Run search on PostgreSQL: a fresh database seeded with BENCH_RUNS runs (default 50,000) in one
// experiment, 20 params, 10 metrics and 3 tags each (tools/bench/tracking/search-seed.ts); then,
// for a few realistic filters and orders, the first page of RunSearch.search (parse, build, bind,
// TypeORM query) against a baseline of the same query written by hand and sent with plain `pg`.
// Both return the same ids (checked). Rounds alternate the two; medians and p99 of the rounds.
// BENCH_EXPLAIN=1 also prints the plans (EXPLAIN ANALYZE) of both queries of each case.
// Run: node tools/bench/run.cjs tools/bench/tracking/search.bench.ts
import 'reflect-metadata';
import { Dialect } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { RunServiceDesc } from '@trellis/proto';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { cpus, loadavg, totalmem } from 'node:os';
import { Client } from 'pg';
import { parseOrderBy } from '../../../libs/tracking/src/common/search/order-by.parser';
import { parseRunFilter } from '../../../libs/tracking/src/common/search/run-filter.parser';
import { RunRepository } from '../../../libs/tracking/src/runs/run.repository';
import { RunSearch } from '../../../libs/tracking/src/runs/run-search';
import { buildRunSearchSql } from '../../../libs/tracking/src/runs/run-search.query';
import { openSearchDatabase } from '../../../libs/tracking/src/common/search/test-fixtures/search-tables';
import { trackingService } from '../../../libs/tracking/src';
import { seedRuns } from './search-seed';

const RUNS = Number(process.env.BENCH_RUNS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const WARMUP = 3;
const PAGE_SIZES = [100, 1000];
const TARGET_MS = 200;
const EXPLAIN = process.env.BENCH_EXPLAIN === '1';

interface Case {
  label: string;
  filter: string;
  orderBy: string[];
  /** The same query as someone would write it by hand for this data ($1 experiment, $2 limit). */
  baseline: string;
}

const CASES: Case[] = [
  {
    label: "metrics.m3 > 0.5 and params.p7 = 'v3', order metrics.m1 DESC",
    filter: "metrics.m3 > 0.5 and params.p7 = 'v3'",
    orderBy: ['metrics.m1 DESC'],
    baseline: `SELECT r.id FROM runs r
      JOIN metric_series f ON f.run_id = r.id AND f.key = 'm3' AND f.latest_value > 0.5
      JOIN run_params p ON p.run_id = r.id AND p.key = 'p7' AND p.value = 'v3'
      LEFT JOIN metric_series o ON o.run_id = r.id AND o.key = 'm1'
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY o.latest_value DESC NULLS LAST, r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: 'no filter, default order (start_time DESC)',
    filter: '',
    orderBy: [],
    baseline: `SELECT r.id FROM runs r WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: 'no filter, order metrics.m2 DESC',
    filter: '',
    orderBy: ['metrics.m2 DESC'],
    baseline: `SELECT r.id FROM runs r
      LEFT JOIN metric_series o ON o.run_id = r.id AND o.key = 'm2'
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY o.latest_value DESC NULLS LAST, r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: "params.p2 = 'v1', default order",
    filter: "params.p2 = 'v1'",
    orderBy: [],
    baseline: `SELECT r.id FROM runs r
      JOIN run_params p ON p.run_id = r.id AND p.key = 'p2' AND p.value = 'v1'
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: "tags.team = 'vision' and status = 'FINISHED', order params.p4",
    filter: "tags.team = 'vision' and attributes.status = 'FINISHED'",
    orderBy: ['params.p4 ASC'],
    baseline: `SELECT r.id FROM runs r
      JOIN run_tags t ON t.run_id = r.id AND t.key = 'team' AND t.value = 'vision'
      LEFT JOIN run_params o ON o.run_id = r.id AND o.key = 'p4'
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
      ORDER BY o.value COLLATE "C" ASC NULLS LAST, r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: 'metrics.m0 < 0.01 (about 1%), order metrics.m5 ASC',
    filter: 'metrics.m0 < 0.01',
    orderBy: ['metrics.m5 ASC'],
    baseline: `SELECT r.id FROM runs r
      JOIN metric_series f ON f.run_id = r.id AND f.key = 'm0' AND f.latest_value < 0.01
      LEFT JOIN metric_series o ON o.run_id = r.id AND o.key = 'm5'
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY o.latest_value ASC NULLS LAST, r.start_time DESC, r.id LIMIT $2`,
  },
  {
    label: "params.p1 LIKE 'v1%' and metrics.m9 >= 0.9, default order",
    filter: "params.p1 LIKE 'v1%' and metrics.m9 >= 0.9",
    orderBy: [],
    baseline: `SELECT r.id FROM runs r
      JOIN run_params p ON p.run_id = r.id AND p.key = 'p1' AND p.value LIKE 'v1%'
      JOIN metric_series f ON f.run_id = r.id AND f.key = 'm9' AND f.latest_value >= 0.9
      WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active'
      ORDER BY r.start_time DESC, r.id LIMIT $2`,
  },
];

async function timedMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(9);

async function printPlans(client: Client, benchCase: Case, experimentId: number, pageSize: number): Promise<void> {
  const built = buildRunSearchSql(Dialect.named('postgres'), {
    experimentIds: [experimentId],
    lifecycleStage: 'active',
    filter: parseRunFilter(benchCase.filter),
    orderBy: benchCase.orderBy.map(parseOrderBy),
    limit: pageSize + 1,
    offset: 0,
  });
  for (const [label, sql, parameters] of [['RunSearch', built.sql, built.parameters], ['baseline', benchCase.baseline, [experimentId, pageSize + 1]]] as const) {
    const plan = await client.query(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`, [...parameters]);
    console.log(`    ${label}:\n${plan.rows.map((row: Record<string, string>) => `      ${row['QUERY PLAN']}`).join('\n')}`);
  }
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const dataSource = await openSearchDatabase(database.config);
  const client = new Client({ connectionString: database.config.url });
  await client.connect();
  const stops: Array<() => Promise<void>> = [];
  try {
    const seedStarted = Date.now();
    const experimentId = await seedRuns(client, { runs: RUNS, params: 20, metrics: 10 });
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const [{ server_version: pgVersion }] = (await client.query('SHOW server_version')).rows;
    const [{ work_mem: workMem }] = (await client.query('SHOW work_mem')).rows;
    console.log('run search benchmark (first page of runs/search)');
    console.log(
      `  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB memory, load average ${loadavg()[0].toFixed(2)} at the start`,
    );
    console.log(`  PostgreSQL ${pgVersion}, fresh database, default settings (work_mem ${workMem}), VACUUM ANALYZE after seeding`);
    console.log(`  ${RUNS.toLocaleString('en-US')} runs in one experiment x 20 params x 10 metrics x 3 tags, seeded in ${seedSeconds.toFixed(1)} s`);
    console.log(`  ${ROUNDS} rounds after ${WARMUP} warm-up, RunSearch and baseline alternating; baseline = the same query hand-written, plain pg`);

    const search = new RunSearch(new RunRepository(dataSource));
    // The same searches end to end: tracking on this database, through gRPC with a verified token,
    // the page hydrated with each run's params, tags, latest metrics and inputs.
    const nats = testNatsConfig();
    const platform = await TestPlatform.start({
      TRELLIS_MODE: 'distributed',
      TRELLIS_TRACKING_DATABASE_URL: database.config.url,
      TRELLIS_TRACKING_PORT: '0',
      ...nats.env,
    }, { plugins: [storageFs] });
    stops.push(async () => {
      await platform.stop();
      await nats.cleanup();
    });
    const tracking = await platform.startService(trackingService);
    const runs = await platform.client(RunServiceDesc, tracking.grpcAddress, { sub: 'bench', bindings: [{ project: 'bench', role: 'viewer' }] });
    let worstMedian = 0;
    for (const pageSize of PAGE_SIZES) {
      console.log(`\npage size ${pageSize}`);
      console.log(`  ${'query'.padEnd(64)} ${'search p50'.padStart(10)} ${'p99'.padStart(9)} ${'baseline p50'.padStart(12)} ${'p99'.padStart(9)}  ratio ${'gRPC p50'.padStart(10)} ${'p99'.padStart(9)}`);
      for (const benchCase of CASES) {
        const viaSearch = () => search.search({ experimentIds: [experimentId], filter: benchCase.filter, orderBy: benchCase.orderBy, viewType: 'active', pageSize, pageToken: '' });
        const viaBaseline = () => client.query(benchCase.baseline, [experimentId, pageSize + 1]);
        const viaGrpc = () => runs.searchRuns({ experimentIds: [String(experimentId)], filter: benchCase.filter, orderBy: benchCase.orderBy, pageSize });
        const [page, baselineRows] = await Promise.all([viaSearch(), viaBaseline()]);
        const expected = baselineRows.rows.slice(0, pageSize).map((row: { id: string }) => row.id);
        if (JSON.stringify(page.runIds) !== JSON.stringify(expected)) throw new Error(`${benchCase.label}: RunSearch and the baseline disagree`);
        for (let i = 0; i < WARMUP; i++) {
          await viaSearch();
          await viaBaseline();
        }
        const viaGrpcIds = (await viaGrpc()).runs.map((run) => run.info?.id);
        if (JSON.stringify(viaGrpcIds) !== JSON.stringify(expected)) throw new Error(`${benchCase.label}: gRPC and the baseline disagree`);
        const searchTimes: number[] = [];
        const baselineTimes: number[] = [];
        const grpcTimes: number[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          searchTimes.push(await timedMs(viaSearch));
          baselineTimes.push(await timedMs(viaBaseline));
          grpcTimes.push(await timedMs(viaGrpc));
        }
        const searchMedian = quantile(searchTimes, 0.5);
        const baselineMedian = quantile(baselineTimes, 0.5);
        const grpcMedian = quantile(grpcTimes, 0.5);
        worstMedian = Math.max(worstMedian, grpcMedian);
        console.log(
          `  ${benchCase.label.padEnd(64)} ${ms(searchMedian).padStart(10)} ${ms(quantile(searchTimes, 0.99))} ${ms(baselineMedian).padStart(12)} ${ms(quantile(baselineTimes, 0.99))}  ${(searchMedian / baselineMedian).toFixed(2)}  ${ms(grpcMedian).padStart(10)} ${ms(quantile(grpcTimes, 0.99))}`,
        );
        if (EXPLAIN) await printPlans(client, benchCase, experimentId, pageSize);
      }
    }
    console.log(`\nload average at the end: ${loadavg().map((load) => load.toFixed(2)).join(', ')} (1, 5, 15 min)`);
    console.log(`target: first page under ${TARGET_MS} ms: ${worstMedian < TARGET_MS ? 'met' : 'NOT met'} (slowest median through gRPC ${worstMedian.toFixed(1)} ms)`);
  } finally {
    for (const stop of stops) await stop();
    await client.end();
    await dataSource.destroy();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
