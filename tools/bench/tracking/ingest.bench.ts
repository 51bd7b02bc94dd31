// Metric ingest through the tracking service on PostgreSQL, end to end, in one run:
// BENCH_WRITERS concurrent clients each log BENCH_BATCHES batches of 1000 points (10 keys x 100
// steps, as MLflow's log-batch sends them) to their own run, through
//   (1) gRPC RunService/LogBatch (token verified, run checked, validated, appended in a transaction);
//       the requests are encoded once up front, as the figure is the server's: a client elsewhere
//       pays its own encoding (protobuf-es spends about 5 ms encoding a 1000-point batch);
//   (2) the gateway's MLflow route POST /api/2.0/mlflow/runs/log-batch: the JSON body MLflow's client
//       sends, over keep-alive HTTP/1.1 connections (one per writer), with a token the gateway
//       forwards as it is; the gateway parses the JSON, builds the LogBatch request and calls (1).
//       The bodies are serialized up front too. The gateway runs in this process, next to tracking
//       and the clients: they share one event loop, as in standalone mode;
// against a baseline of the same points inserted by as many `pg` clients with one
// INSERT ... SELECT FROM unnest(...) per batch into a bare table with the same columns and primary
// key. Rounds alternate; the figures are medians of points per second and their ratio to the baseline.
// Run: node tools/bench/run.cjs tools/bench/tracking/ingest.bench.ts
import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { type GrpcClient } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { toBinary, create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { ExperimentServiceDesc, LogBatchRequestSchema, RunServiceDesc, type Metric } from '@trellis/proto';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { Pool } from 'pg';
import { trackingService } from '../../../libs/tracking/src';

const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1000;
const KEYS = 10;
const TARGET = 100_000;

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Points per second of WRITERS loops of BATCHES calls of `write(writer, batch)`. */
async function pointsPerSecond(write: (writer: number, batch: number) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: WRITERS }, async (_, writer) => {
    for (let batch = 0; batch < BATCHES; batch++) await write(writer, batch);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (WRITERS * BATCHES * BATCH) / seconds;
}

function protoBatch(batch: number): Metric[] {
  const metrics: Metric[] = [];
  for (let s = 0; s < BATCH / KEYS; s++) {
    const step = batch * (BATCH / KEYS) + s;
    for (let k = 0; k < KEYS; k++) {
      metrics.push({ $typeName: 'trellis.tracking.v1.Metric', key: `metric_${k}`, value: Math.sin(step + k), step: BigInt(step), timestampMs: BigInt(1_700_000_000_000 + step) });
    }
  }
  return metrics;
}

async function main(): Promise<void> {
  const trackingDb = await createTestDatabase();
  const baselineDb = await createTestDatabase();
  const nats = testNatsConfig();
  const platform = await TestPlatform.start(
    {
      TRELLIS_MODE: 'distributed',
      TRELLIS_TRACKING_DATABASE_URL: trackingDb.config.url,
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      ...nats.env,
    },
    { plugins: [storageFs] },
  );
  const pool = new Pool({ connectionString: baselineDb.config.url, max: WRITERS });
  try {
    const tracking = await platform.startService(trackingService);
    const claims = { sub: 'bench', bindings: [{ project: 'bench', role: 'editor' as const }] };
    const experiments = await platform.client(ExperimentServiceDesc, tracking.grpcAddress, claims);
    const clients: Array<GrpcClient<(typeof RunServiceDesc)['method']>> = [];
    for (let i = 0; i < WRITERS; i++) clients.push(await platform.client(RunServiceDesc, tracking.grpcAddress, claims));
    const { experiment } = await experiments.createExperiment({ projectId: 'bench', name: 'ingest' });
    const batches = Array.from({ length: BATCHES }, (_, batch) => protoBatch(batch));

    await pool.query('CREATE TABLE baseline_points (series_id integer, seq bigint, step bigint, "timestamp" bigint, value double precision, PRIMARY KEY (series_id, seq))');
    let nextSeries = 0;
    const baselineRound = async () => {
      const firstSeries = nextSeries;
      nextSeries += WRITERS * KEYS;
      return pointsPerSecond(async (writer, batch) => {
        const metrics = batches[batch];
        const series = metrics.map((_, i) => firstSeries + writer * KEYS + (i % KEYS));
        const seq = metrics.map((_, i) => batch * (BATCH / KEYS) + Math.floor(i / KEYS));
        await pool.query(
          'INSERT INTO baseline_points SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[])',
          [series, seq, metrics.map((m) => m.step.toString()), metrics.map((m) => m.timestampMs.toString()), metrics.map((m) => m.value)],
        );
      });
    };
    const token = await platform.keys.mint(claims);
    const raw = Array.from({ length: WRITERS }, () => new Client(tracking.grpcAddress, credentials.createInsecure()));
    const logBatch = (writer: number, bytes: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${token}`);
        raw[writer].makeUnaryRequest('/trellis.tracking.v1.RunService/LogBatch', (b: Buffer) => b, (b: Buffer) => b, bytes, metadata, (error) => (error ? reject(error) : resolve()));
      });
    const grpcRound = async () => {
      const encoded: Buffer[][] = [];
      for (let i = 0; i < WRITERS; i++) {
        const runId = (await clients[i].createRun({ experimentId: experiment!.id })).run!.info!.id;
        encoded.push(batches.map((metrics) => Buffer.from(toBinary(LogBatchRequestSchema, create(LogBatchRequestSchema, { runId, metrics })))));
      }
      return pointsPerSecond((writer, batch) => logBatch(writer, encoded[writer][batch]));
    };

    const gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { tracking: tracking.grpcAddress } });
    const agent = new Agent({ keepAlive: true, maxSockets: WRITERS });
    const logBatchUrl = new URL('/api/2.0/mlflow/runs/log-batch', gateway.address);
    const post = (body: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length };
        const sent = request(logBatchUrl, { method: 'POST', agent, headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`log-batch answered ${response.statusCode}: ${Buffer.concat(chunks)}`))));
        });
        sent.on('error', reject);
        sent.end(body);
      });
    const mlflowMetrics = batches.map((metrics) => JSON.stringify(metrics.map((m) => ({ key: m.key, value: m.value, timestamp: Number(m.timestampMs), step: Number(m.step) }))));
    const gatewayRound = async () => {
      const bodies: Buffer[][] = [];
      for (let i = 0; i < WRITERS; i++) {
        const runId = (await clients[i].createRun({ experimentId: experiment!.id })).run!.info!.id;
        bodies.push(mlflowMetrics.map((metrics) => Buffer.from(`{"run_id":"${runId}","metrics":${metrics}}`)));
      }
      return pointsPerSecond((writer, batch) => post(bodies[writer][batch]));
    };

    await grpcRound();
    await gatewayRound();
    await baselineRound();
    const figures = { grpc: [] as number[], gateway: [] as number[], baseline: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      figures.grpc.push(await grpcRound());
      figures.gateway.push(await gatewayRound());
      figures.baseline.push(await baselineRound());
    }
    agent.destroy();
    await gateway.close();
    const grpc = median(figures.grpc);
    const viaGateway = median(figures.gateway);
    const baseline = median(figures.baseline);
    console.log(`machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${WRITERS} writers x ${BATCHES} batches x ${BATCH} points, ${ROUNDS} rounds (medians)`);
    console.log(`baseline (pg unnest INSERT, bare table)  ${fmt(baseline)} points/s  rounds: ${figures.baseline.map(fmt).join(', ')}`);
    console.log(`gRPC RunService/LogBatch                 ${fmt(grpc)} points/s  rounds: ${figures.grpc.map(fmt).join(', ')}  ratio ${(grpc / baseline).toFixed(2)}  target >= ${fmt(TARGET)}: ${grpc >= TARGET ? 'met' : 'NOT met'}`);
    console.log(`gateway POST /api/2.0/mlflow/runs/log-batch  ${fmt(viaGateway)} points/s  rounds: ${figures.gateway.map(fmt).join(', ')}  ratio ${(viaGateway / baseline).toFixed(2)}  target >= ${fmt(TARGET)}: ${viaGateway >= TARGET ? 'met' : 'NOT met'}`);
  } finally {
    await pool.end();
    await platform.stop();
    await nats.cleanup();
    await trackingDb.drop();
    await baselineDb.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
