// Submissions through gRPC into the compute service's queue, standalone (SQLite), in one run:
// BENCH_JOBS (default 5,000) SubmitJob calls, BENCH_CONCURRENCY (default 64) in flight over
// BENCH_CHANNELS (default 1) connections from a client process of its own (this file again, with
// BENCH_CLIENT_OF set), each a validated spec committed with its event and audit record before the
// answer (calls that arrive together share a transaction: group commit), while the admission loop
// runs (the grant's nominal quota is 0, so every job stays queued with its reason; BENCH_WORKERS=off
// stops the loop, as an experiment). Calls in flight because the figure is throughput, as Slurm's
// (sbatch from many clients at once). Baseline in the same process: the same job rows INSERTed into
// a SQLite file of their own with better-sqlite3, one transaction per row, no gRPC, no checks, no
// events. Figures: jobs/s of each and the ratio. BENCH_DATABASE=postgres runs the same distributed
// (PostgreSQL, NATS JetStream) on a fresh database, against INSERTs with plain `pg` on a pool of as
// many connections as the service has, 64 in flight. Target (issue 14): at least 2,000 jobs/s
// through gRPC (Slurm, tuned: about 500/s).
// Run: node tools/bench/run.cjs tools/bench/compute/submit.bench.ts
import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryComputeBackend } from '@trellis/plugin-sdk/testing';
import { createGrpcClient } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { Pool } from 'pg';
import { JobServiceDesc, QueueServiceDesc } from '@trellis/proto';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of better-sqlite3 (installed without type declarations) the baseline uses. */
interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): { run(...params: unknown[]): unknown };
  transaction<T extends (...args: never[]) => unknown>(work: T): T;
  pragma(setting: string): unknown;
  close(): void;
}
const Database = createRequire(__filename)('better-sqlite3') as new (path: string) => SqliteDatabase;

const JOBS = Number(process.env.BENCH_JOBS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 1);
const WORKERS_OFF = process.env.BENCH_WORKERS === 'off';
const TARGET = 2000;
const POSTGRES = process.env.BENCH_DATABASE === 'postgres';
/** Connections of the baseline's pool: TypeORM's default pool for PostgreSQL. */
const POOL_SIZE = 10;
const JOBS_TABLE =
  'CREATE TABLE jobs (id varchar(36) PRIMARY KEY, project_id varchar(64), queue varchar(63), request_id varchar(128), spec text, priority integer, replicas integer, request text, any_gpus integer, state varchar(16), reason text, run_id varchar(64), creator_id varchar(256), created_at bigint, updated_at bigint, not_before bigint, admitted_at bigint, admitted_request text, borrowing boolean, UNIQUE (project_id, request_id))';

/** The values of one job row, in the table's column order. */
const rowOf = (index: number) => {
  const now = Date.now();
  const spec = JSON.stringify(jobSpec(index), (_key, value) => (typeof value === 'bigint' ? Number(value) : value));
  return [randomUUID(), 'p1', 'bench', `bench-${index}`, spec, 100, 1, '{"cpu":2000,"memory":4294967296}', 0, 'QUEUED', 'waiting', '', 'erin', now, now, 0, null, null, false];
};

const memoryCompute = definePlugin({ manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new MemoryComputeBackend() });

const jobSpec = (index: number) => ({
  name: `train-${index}`,
  // A program the memory backend runs, so that jobs wait for quota alone.
  command: ['echo', 'train.py', '--epochs', '10'],
  env: { LEARNING_RATE: '0.001', BATCH_SIZE: '64' },
  resources: { cpuMillis: 2000n, memoryBytes: 4n * 1024n ** 3n },
  retries: { maxRetries: 2 },
});

/** Submits JOBS jobs, CONCURRENCY in flight spread over CHANNELS channels, to the service at `address` with `token`; returns jobs/s. */
async function submitAll(address: string, token: string): Promise<number> {
  // A local subchannel pool each: grpc-js would otherwise share one connection between clients of one address.
  const channels = Array.from({ length: CHANNELS }, () => createGrpcClient(JobServiceDesc, address, { token, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
  try {
    for (let i = 0; i < 200; i++) await channels[i % CHANNELS].submitJob({ projectId: 'p1', queue: 'bench', spec: jobSpec(i) });
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, caller) => {
        const jobs = channels[caller % CHANNELS];
        while (next < JOBS) await jobs.submitJob({ projectId: 'p1', queue: 'bench', spec: jobSpec(next++), requestId: `bench-${next}` });
      }),
    );
    return JOBS / ((performance.now() - started) / 1000);
  } finally {
    for (const jobs of channels) jobs.close();
  }
}

/** The client in a process of its own, as clients are: this file run with BENCH_CLIENT_OF=<address> and BENCH_TOKEN. */
async function submitFromAnotherProcess(address: string, token: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, join(__dirname, '..', 'run.cjs'), __filename], {
    env: { ...process.env, BENCH_CLIENT_OF: address, BENCH_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the client process exited with ${code}`);
  const rate = /rate (\S+)/.exec(output)?.[1];
  if (rate === undefined) throw new Error(`the client process printed no rate: ${output}`);
  return Number(rate);
}

async function viaGrpc(dir: string, env: Record<string, string>): Promise<number> {
  writeFileSync(join(dir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
  const platform = await TestPlatform.start({ TRELLIS_CONFIG: join(dir, 'trellis.yaml'), ...env }, { plugins: [memoryCompute] });
  try {
    const service = await platform.startService(computeService);
    const admin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'ada', orgAdmin: true });
    await admin.createQueue({ queue: { name: 'bench', cluster: 'local' } });
    await admin.setGrant({ queue: 'bench', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 0n }] });
    // An experiment, not a setting: what the calls take in with the admission loop (and the other workers) stopped.
    if (WORKERS_OFF) await service.stopWorkers();
    return await submitFromAnotherProcess(service.grpcAddress, await platform.keys.mint({ sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }], ttlSeconds: 3600 }));
  } finally {
    await platform.stop();
  }
}

function plainInserts(dir: string): number {
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(JOBS_TABLE);
  const insert = db.prepare(`INSERT INTO jobs VALUES (${Array(19).fill('?').join(', ')})`);
  const one = db.transaction((index: number) => insert.run(...rowOf(index).map((value) => (value === false ? 0 : value))));
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) one(i);
  const rate = JOBS / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

async function plainPgInserts(url: string): Promise<number> {
  const pool = new Pool({ connectionString: url, max: POOL_SIZE });
  try {
    await pool.query(JOBS_TABLE.replace('CREATE TABLE jobs', 'CREATE TABLE baseline_jobs'));
    const sql = `INSERT INTO baseline_jobs VALUES (${Array.from({ length: 19 }, (_, i) => `$${i + 1}`).join(', ')})`;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JOBS) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query(sql, rowOf(next++));
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        }
      }),
    );
    return JOBS / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-submit-bench-'));
  const databases = POSTGRES ? [await createTestDatabase(), await createTestDatabase()] : [];
  const nats = POSTGRES ? testNatsConfig() : undefined;
  try {
    const where = POSTGRES ? 'PostgreSQL, distributed' : 'SQLite, standalone';
    console.log(`submissions (${where}): ${JOBS} jobs, ${CONCURRENCY} in flight over ${CHANNELS} channel(s)${WORKERS_OFF ? ', workers stopped' : ''}; ${cpus().length} CPUs, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    const baseline = POSTGRES ? await plainPgInserts(databases[1].config.url) : plainInserts(dir);
    const env: Record<string, string> = POSTGRES ? { TRELLIS_MODE: 'distributed', TRELLIS_COMPUTE_DATABASE_URL: databases[0].config.url, ...nats?.env } : {};
    const grpc = await viaGrpc(dir, env);
    const baselineName = POSTGRES ? `plain INSERTs (pg, ${POOL_SIZE} connections, a transaction per row)` : 'plain INSERTs (better-sqlite3, a transaction per row)';
    console.log(`${baselineName}: ${baseline.toFixed(0)} jobs/s`);
    console.log(`SubmitJob through gRPC (${where}): ${grpc.toFixed(0)} jobs/s (target ${TARGET}: ${grpc >= TARGET ? 'met' : 'not met'}; ${(baseline / grpc).toFixed(1)}x the baseline's time per job)`);
  } finally {
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_CLIENT_OF) void submitAll(process.env.BENCH_CLIENT_OF, process.env.BENCH_TOKEN ?? '').then((rate) => console.log(`rate ${rate}`));
else void main();
