// Metric history through MLflow's REST API, standalone (SQLite), in one run: one metric of
// BENCH_POINTS (default 20,000) points logged with log-batch, then read BENCH_READS times each way,
// alternating, over one keep-alive HTTP/1.1 connection, timed from the request to the last byte:
//   get-history                the whole history (streamed from tracking);
//   get-history-bulk           the UI's full history of the run, with run_id;
//   get-history-bulk-interval  the run sampled to MLflow's default max_results (2500);
// against a baseline in the same process: the same points read straight from tracking's SQLite file
// with better-sqlite3 and JSON-encoded (`JSON.stringify` of MLflow's metric objects); for the
// sampled route, the whole series read and every k-th point kept before encoding. The gateway,
// tracking and governance run in this process too, as `npm start` runs them, so the figure is the
// server's time. Medians and p90; ratios to the baseline.
// Run: node tools/bench/run.cjs tools/bench/tracking/history.bench.ts (BENCH_ROUTES=get-history for one route)
import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The part of better-sqlite3 (installed without type declarations) the baseline uses. */
interface SqliteDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown };
  close(): void;
}
const Database = createRequire(__filename)('better-sqlite3') as new (path: string, options: { readonly: boolean }) => SqliteDatabase;

const POINTS = Number(process.env.BENCH_POINTS ?? 20_000);
const READS = Number(process.env.BENCH_READS ?? 50);
/** The routes to time, comma-separated (default: all three), e.g. to profile one. */
const ROUTES = process.env.BENCH_ROUTES?.split(',');
const SAMPLED = 2500;
const TARGET_MS = 60;
const TARGET_RATIO = 2;
const ADMIN_KEY = `trellis_00000000000000ad_${'b'.repeat(43)}`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))];

interface Reader {
  name: string;
  read: () => Promise<number>;
  baseline: () => number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-history-bench-'));
  Object.assign(process.env, {
    TRELLIS_DATA_DIR: dir,
    TRELLIS_OPS_PORT: '0',
    TRELLIS_GATEWAY_PORT: '0',
    TRELLIS_GOVERNANCE_PORT: '0',
    TRELLIS_TRACKING_PORT: '0',
    TRELLIS_LOG_LEVEL: 'silent',
    TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
  });
  let running: RunningProcess | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    running = await runProcess({ mode: 'standalone', services: [governanceService, trackingService], edges: [gatewayEdge], plugins: [storageFs], print: () => undefined });
    const base = running.edges.find((edge) => edge.name === 'gateway')?.address ?? '';
    const call = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; bytes: number; text: () => string }>((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { authorization: `Bearer ${ADMIN_KEY}` };
        if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
        const sent = request(new URL(path, base), { method, agent, headers }, (response) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            bytes += chunk.length;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes, text: () => Buffer.concat(chunks).toString() }));
        });
        sent.on('error', reject);
        sent.end(payload);
      });
    const ok = async (method: string, path: string, body?: unknown) => {
      const answer = await call(method, `/api/2.0/mlflow/${path}`, body);
      if (answer.status !== 200) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text().slice(0, 300)}`);
      return answer;
    };

    const { experiment_id } = JSON.parse((await ok('POST', 'experiments/create', { name: 'history-bench' })).text());
    const { run } = JSON.parse((await ok('POST', 'runs/create', { experiment_id, start_time: Date.now() })).text());
    const runId: string = run.info.run_id;
    for (let start = 0; start < POINTS; start += 1000) {
      const metrics = Array.from({ length: Math.min(1000, POINTS - start) }, (_, i) => {
        const step = start + i;
        return { key: 'loss', value: Math.exp(-step / 5000) + (step % 7) / 100, timestamp: 1_767_225_600_000 + step * 10, step };
      });
      await ok('POST', 'runs/log-batch', { run_id: runId, metrics });
    }

    const db = new Database(join(dir, 'tracking.sqlite'), { readonly: true });
    const seriesId = (db.prepare(`SELECT id FROM metric_series WHERE run_id = ? AND key = 'loss'`).get(runId) as { id: number }).id;
    const points = db.prepare(`SELECT step, "timestamp", value FROM metric_points WHERE series_id = ? ORDER BY seq`);
    const metricJson = (row: { step: number; timestamp: number; value: number | null }) => ({
      key: 'loss',
      value: row.value ?? 'NaN',
      timestamp: row.timestamp,
      step: row.step,
    });
    const baselineOf = (keep: (index: number) => boolean, withRunId: boolean) => () => {
      const rows = points.all(seriesId) as Array<{ step: number; timestamp: number; value: number | null }>;
      const metrics: object[] = [];
      for (let i = 0; i < rows.length; i++) if (keep(i)) metrics.push(withRunId ? { ...metricJson(rows[i]), run_id: runId } : metricJson(rows[i]));
      return Buffer.byteLength(JSON.stringify({ metrics }));
    };
    const every = Math.ceil(POINTS / SAMPLED);
    const readers: Reader[] = [
      {
        name: 'get-history',
        read: async () => (await ok('GET', `metrics/get-history?run_id=${runId}&metric_key=loss`)).bytes,
        baseline: baselineOf(() => true, false),
      },
      {
        name: 'get-history-bulk',
        read: async () => (await ok('GET', `metrics/get-history-bulk?run_id=${runId}&metric_key=loss`)).bytes,
        baseline: baselineOf(() => true, true),
      },
      {
        name: 'get-history-bulk-interval',
        read: async () => (await ok('GET', `metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss&max_results=${SAMPLED}`)).bytes,
        baseline: baselineOf((i) => i % every === 0 || i === POINTS - 1, true),
      },
    ];

    console.log('metric history through the MLflow REST API, standalone (SQLite)');
    console.log(`  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${loadavg()[0].toFixed(1)} at start`);
    console.log(`  one metric of ${POINTS.toLocaleString('en-US')} points; ${READS} reads each way, alternating, after 5 warm-up reads`);
    console.log('  wall: ms from request to last byte; cpu: ms of this process (server, client and all) per read, less bent by other load');
    /** Wall and CPU milliseconds of `work`. */
    const time = async (work: () => unknown) => {
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      await work();
      const used = process.cpuUsage(cpu);
      return { wall: Number(process.hrtime.bigint() - started) / 1e6, cpu: (used.user + used.system) / 1000 };
    };
    const ms = (value: number) => value.toFixed(1).padStart(6);
    for (const reader of readers.filter(({ name }) => !ROUTES || ROUTES.includes(name))) {
      for (let i = 0; i < 5; i++) {
        await reader.read();
        reader.baseline();
      }
      const served: Array<{ wall: number; cpu: number }> = [];
      const baseline: Array<{ wall: number; cpu: number }> = [];
      let bytes = 0;
      for (let i = 0; i < READS; i++) {
        served.push(await time(async () => (bytes = await reader.read())));
        baseline.push(await time(reader.baseline));
      }
      const wall = (list: typeof served) => list.map((one) => one.wall);
      const cpu = (list: typeof served) => list.map((one) => one.cpu);
      const ratio = median(wall(served)) / median(wall(baseline));
      const met = median(wall(served)) <= TARGET_MS && ratio <= TARGET_RATIO;
      console.log(`  ${reader.name} (${(bytes / 1e6).toFixed(2)} MB)`);
      console.log(`    route      wall p50 ${ms(median(wall(served)))}  p90 ${ms(p90(wall(served)))}  cpu p50 ${ms(median(cpu(served)))}`);
      console.log(`    baseline   wall p50 ${ms(median(wall(baseline)))}  p90 ${ms(p90(wall(baseline)))}  cpu p50 ${ms(median(cpu(baseline)))}`);
      console.log(
        `    ratio      wall ${ratio.toFixed(2)}  cpu ${(median(cpu(served)) / median(cpu(baseline))).toFixed(2)}; target p50 <= ${TARGET_MS} ms and <= ${TARGET_RATIO}x baseline: ${met ? 'met' : 'NOT met'}`,
      );
    }
    db.close();
  } finally {
    agent.destroy();
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
