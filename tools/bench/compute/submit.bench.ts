// Submissions through gRPC into the compute service's queue, standalone (SQLite), in one run:
// BENCH_JOBS (default 5,000) SubmitJob calls, BENCH_CONCURRENCY (default 64) in flight, each a
// validated spec written with its event and audit record in one transaction, while the admission
// loop runs (the grant's nominal quota is 0, so every job stays queued with its reason). Baseline in
// the same process: the same job rows INSERTed into a SQLite file of their own with better-sqlite3,
// one transaction per row as SubmitJob commits, no gRPC, no checks, no events. Figures: jobs/s of each
// and the ratio. Target (issue 14): at least 2,000 jobs/s through gRPC (Slurm, tuned: about 500/s).
// Run: node tools/bench/run.cjs tools/bench/compute/submit.bench.ts
import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryComputeBackend } from '@trellis/plugin-sdk/testing';
import { TestPlatform } from '@trellis/platform/testing';
import { JobServiceDesc, QueueServiceDesc } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
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
const TARGET = 2000;

const memoryCompute = definePlugin({ manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new MemoryComputeBackend() });

const jobSpec = (index: number) => ({
  name: `train-${index}`,
  command: ['python', 'train.py', '--epochs', '10'],
  env: { LEARNING_RATE: '0.001', BATCH_SIZE: '64' },
  resources: { cpuMillis: 2000n, memoryBytes: 4n * 1024n ** 3n },
  retries: { maxRetries: 2 },
});

async function viaGrpc(dir: string): Promise<number> {
  writeFileSync(join(dir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
  const platform = await TestPlatform.start({ TRELLIS_CONFIG: join(dir, 'trellis.yaml') }, { plugins: [memoryCompute] });
  try {
    const service = await platform.startService(computeService);
    const admin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'ada', orgAdmin: true });
    await admin.createQueue({ queue: { name: 'bench', cluster: 'local' } });
    await admin.setGrant({ queue: 'bench', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 0n }] });
    const jobs = await platform.client(JobServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    for (let i = 0; i < 200; i++) await jobs.submitJob({ projectId: 'p1', queue: 'bench', spec: jobSpec(i) });
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < JOBS) await jobs.submitJob({ projectId: 'p1', queue: 'bench', spec: jobSpec(next++), requestId: `bench-${next}` });
      }),
    );
    return JOBS / ((performance.now() - started) / 1000);
  } finally {
    await platform.stop();
  }
}

function plainInserts(dir: string): number {
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE jobs (id varchar(36) PRIMARY KEY, project_id varchar(64), queue varchar(63), request_id varchar(128), spec text, priority integer, replicas integer, request text, any_gpus integer, state varchar(16), reason text, run_id varchar(64), creator_id varchar(256), created_at bigint, updated_at bigint, not_before bigint, admitted_at bigint, admitted_request text, borrowing boolean, UNIQUE (project_id, request_id))',
  );
  const insert = db.prepare(`INSERT INTO jobs VALUES (${Array(19).fill('?').join(', ')})`);
  const one = db.transaction((index: number) => {
    const now = Date.now();
    insert.run(randomUUID(), 'p1', 'bench', `bench-${index}`, JSON.stringify(jobSpec(index), (_key, value) => (typeof value === 'bigint' ? Number(value) : value)), 100, 1, '{"cpu":2000,"memory":4294967296}', 0, 'QUEUED', 'waiting', '', 'erin', now, now, 0, null, null, 0);
  });
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) one(i);
  const rate = JOBS / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-submit-bench-'));
  try {
    console.log(`submissions: ${JOBS} jobs, ${CONCURRENCY} in flight; ${cpus().length} CPUs, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    const baseline = plainInserts(dir);
    const grpc = await viaGrpc(dir);
    console.log(`plain INSERTs (better-sqlite3, a transaction per row): ${baseline.toFixed(0)} jobs/s`);
    console.log(`SubmitJob through gRPC (SQLite, standalone):           ${grpc.toFixed(0)} jobs/s (target ${TARGET}: ${grpc >= TARGET ? 'met' : 'not met'}; ${(baseline / grpc).toFixed(1)}x the baseline's time per job)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
