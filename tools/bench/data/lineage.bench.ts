// Lineage queries over a graph of BENCH_EDGES edges (default 100,000), on SQLite and PostgreSQL in
// one run. The graph is shaped like a training platform's: dataset versions feed jobs and runs,
// jobs start runs, runs make model versions (per 12,500 model versions: 25,000 runs, 12,500 jobs,
// 5,000 dataset versions each used by about 15 runs or jobs). Timed, per database:
// - LineageService.get 3 hops upstream from a random model version (the target: under 20 ms),
//   which walks the frontier one indexed query a hop and checks each node's project;
// - the baseline: one raw WITH RECURSIVE query of the same shape (same edges, same nodes joined),
//   on the same connection, with no permission checks and no mapping;
// - LineageService.get 3 hops downstream from a random dataset version (a wider answer).
// Run: node tools/bench/run.cjs tools/bench/data/lineage.bench.ts
import 'reflect-metadata';
import { Dialect, openDatabase, tableOf, type Caller, type DatabaseConfig } from '@trellis/platform';
import { LineageDirection, LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import { createTestDatabase } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { DatasetEntity } from '../../../libs/data/src/datasets/dataset.entity';
import { LineageEdgeEntity, LineageNodeEntity } from '../../../libs/data/src/lineage/lineage.entity';
import { LineageRepository } from '../../../libs/data/src/lineage/lineage.repository';
import { LineageService } from '../../../libs/data/src/lineage/lineage.service';
import { CreateDataTables1796437705052 } from '../../../libs/data/src/migrations/1796437705052-create-data-tables';
import { CreateLineageTables1796470000000 } from '../../../libs/data/src/migrations/1796470000000-create-lineage-tables';

const EDGES = Number(process.env.BENCH_EDGES ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const HOPS = 3;
const MODELS = Math.round(EDGES / 8);
const RUNS = MODELS * 2;
const JOBS = MODELS;
const DATASETS = Math.max(1, Math.round(MODELS / 2.5));
const PROJECTS = 20;

/** A deterministic pseudo-random sequence, so every run builds the same graph. */
let seed = 42;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

const project = (i: number) => `p${i % PROJECTS}`;
const datasetNode = (i: number) => `datasets/d${i}/versions/1`;
const runNode = (i: number) => `runs/r${i}`;
const jobNode = (i: number) => `jobs/j${i}`;
const modelNode = (i: number) => `projects/${project(i)}/models/m${i}/versions/1`;

function graph(): { nodes: LineageNodeEntity[]; edges: LineageEdgeEntity[] } {
  const now = Date.now();
  const nodes: LineageNodeEntity[] = [];
  const node = (name: string, kind: LineageNodeKind, i: number) => nodes.push({ name, kind, projectId: project(i), createdAt: now });
  for (let i = 0; i < DATASETS; i++) node(datasetNode(i), LineageNodeKind.DATASET_VERSION, i);
  for (let i = 0; i < RUNS; i++) node(runNode(i), LineageNodeKind.RUN, Math.floor(i / 2));
  for (let i = 0; i < JOBS; i++) node(jobNode(i), LineageNodeKind.JOB, i);
  for (let i = 0; i < MODELS; i++) node(modelNode(i), LineageNodeKind.MODEL_VERSION, i);
  const edges = new Map<string, LineageEdgeEntity>();
  const edge = (source: string, target: string) => edges.set(`${source} ${target}`, { source, target, origin: 'bench', creatorId: 'bench', createdAt: now });
  for (let i = 0; i < RUNS; i++) {
    edge(datasetNode(random(DATASETS)), runNode(i));
    edge(datasetNode(random(DATASETS)), runNode(i));
    edge(jobNode(Math.floor(i / 2)), runNode(i));
  }
  for (let i = 0; i < JOBS; i++) edge(datasetNode(random(DATASETS)), jobNode(i));
  for (let i = 0; i < MODELS; i++) edge(runNode(i * 2), modelNode(i));
  return { nodes, edges: [...edges.values()] };
}

/** A caller that may read every project, so the service does all its checks and hides nothing. */
const reader = { can: () => true } as unknown as Caller;

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms`;
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The baseline: the same walk as one recursive query, nodes joined, no checks. */
function recursiveUpstream(dataSource: DataSource, start: string): Promise<unknown[]> {
  const parameters = Dialect.of(dataSource).parameters();
  const edges = tableOf(dataSource, LineageEdgeEntity);
  const nodes = tableOf(dataSource, LineageNodeEntity);
  const sql =
    `WITH RECURSIVE walk(source, target, origin, created_at, depth) AS (` +
    `SELECT e.source, e.target, e.origin, e.created_at, 1 FROM ${edges} e WHERE e.target = ${parameters.bind(start)} UNION ` +
    `SELECT e.source, e.target, e.origin, e.created_at, w.depth + 1 FROM ${edges} e JOIN walk w ON e.target = w.source WHERE w.depth < ${parameters.bind(HOPS)}) ` +
    `SELECT w.source, w.target, w.origin, w.created_at, n.kind, n.project_id FROM walk w JOIN ${nodes} n ON n.name = w.source`;
  return dataSource.query(sql, parameters.values);
}

async function bench(label: string, database: DatabaseConfig): Promise<void> {
  const dataSource = await openDatabase({
    service: 'data',
    database,
    entities: [DatasetEntity, LineageNodeEntity, LineageEdgeEntity],
    migrations: [CreateDataTables1796437705052, CreateLineageTables1796470000000],
  });
  try {
    const repository = new LineageRepository(dataSource);
    const service = new LineageService(repository, undefined as never);
    const { nodes, edges } = graph();
    const fill = await time(async () => {
      for (let i = 0; i < nodes.length; i += 1000) await repository.transaction((tx) => repository.insertNodes(tx, nodes.slice(i, i + 1000)));
      for (let i = 0; i < edges.length; i += 1000) await repository.transaction((tx) => repository.insertEdges(tx, edges.slice(i, i + 1000)));
    });
    if (database.type === 'postgres') await dataSource.query('ANALYZE');
    console.log(`${label}: ${nodes.length} nodes, ${edges.length} edges stored in ${(fill / 1000).toFixed(1)} s`);

    const models = Array.from({ length: QUERIES }, () => modelNode(random(MODELS)));
    const datasets = Array.from({ length: QUERIES }, () => datasetNode(random(DATASETS)));
    let answerNodes = 0;
    let baselineRows = 0;
    let downNodes = 0;
    // Warm both paths (statement caches, pages) before timing.
    for (const model of models.slice(0, 20)) {
      await service.get(reader, model, LineageDirection.UPSTREAM, HOPS);
      await recursiveUpstream(dataSource, model);
    }
    const upstream: number[] = [];
    const baseline: number[] = [];
    const downstream: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      upstream.push(await time(async () => (answerNodes += (await service.get(reader, models[i], LineageDirection.UPSTREAM, HOPS)).nodes.length)));
      baseline.push(await time(async () => (baselineRows += (await recursiveUpstream(dataSource, models[i])).length)));
      downstream.push(await time(async () => (downNodes += (await service.get(reader, datasets[i], LineageDirection.DOWNSTREAM, HOPS)).nodes.length)));
    }
    console.log(`  GetLineage ${HOPS} hops upstream of a model version (${(answerNodes / QUERIES).toFixed(1)} nodes on average): ${stats(upstream)}`);
    console.log(`  baseline, one WITH RECURSIVE query of the same shape (${(baselineRows / QUERIES).toFixed(1)} edge rows):   ${stats(baseline)}`);
    console.log(`  GetLineage ${HOPS} hops downstream of a dataset version (${(downNodes / QUERIES).toFixed(1)} nodes on average): ${stats(downstream)}`);
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  console.log(`lineage bench: ${EDGES} edges wanted, ${QUERIES} queries of each kind, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
  const dir = mkdtempSync(join(tmpdir(), 'lineage-bench-'));
  try {
    await bench('SQLite (file, WAL)', { type: 'sqlite', path: join(dir, 'data.sqlite') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const postgres = await createTestDatabase();
  try {
    await bench('PostgreSQL', { type: 'postgres', url: postgres.config.url });
  } finally {
    await postgres.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
