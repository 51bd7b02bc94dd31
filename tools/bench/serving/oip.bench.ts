// The Open Inference Protocol, end to end, in one run: the 10-feature MLP of runtime-onnx's specs
// (written by python3-onnx; MatMul+Add+Relu+MatMul+Add, 10-8-3), one row per request, answered by
//   in-process    InferenceSession.run in this process, no server (the model's own cost);
//   grpc-bare     a bare grpc-js server answering inference.GRPCInferenceService/ModelInfer
//                 (raw_input_contents, decoded with libs/proto's generated types) with that session;
//   http-bare     a bare node:http server answering POST /v2/models/mlp/infer (REST JSON) with it;
//   trellis-grpc  the serving service (started in-process as its specs do: tracking, registry and
//                 serving on SQLite, the model registered from a run and deployed in one call)
//                 over OIP gRPC with the same request, bearer token and all;
//   trellis-rest  the same endpoint over OIP REST on serving's HTTP port, the same JSON as http-bare;
// at 1, 16 and 64 requests in flight (closed loop: each caller sends its next request when its last
// one answers). The callers run in a child process, so they do not share the servers' event loop;
// the in-process arm runs in this process. Every round runs every arm at every concurrency, arms
// interleaved; p50/p99 (us), requests/s and server CPU per request are medians over rounds. Server CPU
// is this process's (every thread: the servers, serving's runtime worker, and the in-process arm's
// loop), measured around each arm's calls and divided by its requests, the callers' warm-up
// requests included: what a request costs the server, less swayed by the machine's load than latency.
// Then, only when BENCH_ARMS includes trellis-grpc, Trellis over gRPC at 64 in flight, rounds
// rotating the order: the main endpoint (batching off: maxBatchSize 1; prediction logging off:
// share 0) against an endpoint of the same model with dynamic batching on (maxBatchSize 64, no
// queue delay), whose rows per run are printed, and one created with prediction logging at 100%.
// Run: node tools/bench/run.cjs tools/bench/serving/oip.bench.ts
// Env: BENCH_ROUNDS (5), BENCH_CALLS (requests per arm at 1 in flight, 2000; 5x that at 16 and 64),
//      BENCH_ARMS (comma-separated subset of the arms above, for a profile: run with
//      `node --cpu-prof tools/bench/run.cjs ... ` and BENCH_ARMS=trellis-grpc; the callers' process
//      is not profiled; without trellis-grpc the batching and logging comparisons do not run),
//      BENCH_BATCHING (0 skips the batching and logging comparisons).
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, Agent, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { TestPlatform } from '@trellis/platform/testing';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import storageFs from '@trellis/plugin-storage-fs';
import {
  ArtifactServiceDesc,
  EndpointServiceDesc,
  ExperimentServiceDesc,
  ModelInferRequestSchema,
  ModelInferResponseSchema,
  RegistryServiceDesc,
  RevisionState,
  RunServiceDesc,
  type ModelInferRequest,
  type ModelInferResponse,
} from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { trackingService } from '@trellis/tracking';
import * as Ort from 'onnxruntime-node';
// Builds runtime-onnx and the SDK from this workspace's sources as a module a worker imports, as serving loads it.
import { buildForWorker } from '../../../plugins/runtime-onnx/test/build-for-worker';
import { writeModel } from '../../../plugins/runtime-onnx/test/models';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = [1, 16, 64];
const ARMS = ['in-process', 'grpc-bare', 'http-bare', 'trellis-grpc', 'trellis-rest'] as const;
type Arm = (typeof ARMS)[number];
const SELECTED = (process.env.BENCH_ARMS?.split(',') ?? [...ARMS]) as Arm[];
const BATCHING = process.env.BENCH_BATCHING !== '0';
const FEATURES = 10;
const MODEL = 'mlp';
const TARGETS = { grpcP50: 1.2, restP50: 1.3, grpcRate64: 3000, batching: 2, logging: 0.9, tritonOverheadUs: 41 };
/** The 64-in-flight comparisons over Trellis gRPC: endpoint name by figure. */
const VARIANTS = { 'batching-off, logging-off': MODEL, 'batching-on': `${MODEL}-batched`, 'logging-100%': `${MODEL}-logged` } as const;

/** What one arm at one concurrency measured: latencies, requests/s, and (where the servers run) their CPU per request. */
interface Measure {
  p50: number;
  p99: number;
  rate: number;
  cpuUs?: number;
}

/** Requests the callers send before the measured ones, to open connections and warm the paths. */
const warmUpCalls = (inFlight: number) => Math.max(50, inFlight * 4);

/** Tells the callers' process where to send what. */
interface Job {
  kind: 'grpc' | 'rest';
  address: string;
  model: string;
  token: string;
  inFlight: number;
  count: number;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const median = (values: readonly number[]) => quantile(values, 0.5);

/** `count` rows of FEATURES values (as runtime-onnx's specs make them). */
const rows = Array.from({ length: 256 }, (_, row) => Array.from({ length: FEATURES }, (_, i) => Math.fround(Math.sin(row * 13 + i) * 2)));

/** Latencies (us) and requests/s of `count` calls with `inFlight` callers, each calling again when answered. */
async function closedLoop(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<Measure> {
  const took: number[] = new Array(count);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++;
        const start = process.hrtime.bigint();
        await call(i);
        took[i] = Number(process.hrtime.bigint() - start) / 1000;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { p50: quantile(took, 0.5), p99: quantile(took, 0.99), rate: count / seconds };
}

// ---------------------------------------------------------------------------------------------
// The callers' process: a stock OIP client over grpc-js (libs/proto's generated types) and over
// node:http with kept-alive sockets, the same request for the bare servers and for Trellis.

function grpcCaller(job: Job): { call: (i: number) => Promise<unknown>; close(): void } {
  const client = new Client(job.address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${job.token}`);
  const serialize = (message: ModelInferRequest) => Buffer.from(toBinary(ModelInferRequestSchema, message));
  const deserialize = (bytes: Buffer) => fromBinary(ModelInferResponseSchema, bytes);
  const requests = rows.map((row) =>
    create(ModelInferRequestSchema, { modelName: job.model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, BigInt(FEATURES)] }], rawInputContents: [new Uint8Array(new Float32Array(row).buffer)] }),
  );
  const call = (i: number) =>
    new Promise<ModelInferResponse>((resolve, reject) => {
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', serialize, deserialize, requests[i % requests.length], metadata, (error, response) => {
        if (error) reject(error);
        else if (response?.rawOutputContents[0]?.byteLength !== 12) reject(new Error(`unexpected answer ${JSON.stringify(response?.outputs)}`));
        else resolve(response);
      });
    });
  return { call, close: () => client.close() };
}

function restCaller(job: Job): { call: (i: number) => Promise<unknown>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: job.inFlight });
  const [host, port] = job.address.split(':');
  const bodies = rows.map((row) => Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, FEATURES], data: row }] })));
  const headers = { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' };
  const call = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = bodies[i % bodies.length];
      const request = httpRequest({ host, port: Number(port), path: `/v2/models/${job.model}/infer`, method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode !== 200) reject(new Error(`${response.statusCode}: ${text}`));
          else if ((JSON.parse(text) as { outputs: Array<{ data: number[] }> }).outputs[0].data.length !== 3) reject(new Error(`unexpected answer ${text}`));
          else resolve();
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  return { call, close: () => agent.destroy() };
}

function callers(): void {
  process.on('message', (job: Job) => {
    const caller = job.kind === 'grpc' ? grpcCaller(job) : restCaller(job);
    // A few calls open the connections and warm the paths before the measured ones.
    closedLoop(warmUpCalls(job.inFlight), job.inFlight, caller.call)
      .then(() => closedLoop(job.count, job.inFlight, caller.call))
      .then(
        (measure) => process.send!({ measure }),
        (error: unknown) => process.send!({ error: String((error as Error).stack ?? error) }),
      )
      .finally(() => caller.close());
  });
}

/** Runs jobs in a child process of this file, one at a time. */
class Callers {
  private readonly child: ChildProcess;

  constructor() {
    // execArgv [] so that a --cpu-prof of this process does not profile the callers too.
    this.child = fork(join(__dirname, '..', 'run.cjs'), [__filename, '--callers'], { execArgv: [], stdio: 'inherit' });
  }

  run(job: Job): Promise<Measure> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (answer: { measure?: Measure; error?: string }) => (answer.measure ? resolve(answer.measure) : reject(new Error(`callers: ${answer.error}`))));
      this.child.send(job);
    });
  }

  close(): void {
    this.child.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// The servers.

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Session = Ort.InferenceSession;

/** The bare grpc-js floor: decode, run the in-process session, encode; no auth, no routing. */
async function bareGrpc(session: Session): Promise<{ address: string; close(): void }> {
  const server = new Server();
  server.addService(
    {
      ModelInfer: {
        path: '/inference.GRPCInferenceService/ModelInfer',
        requestStream: false,
        responseStream: false,
        requestDeserialize: (bytes: Buffer) => fromBinary(ModelInferRequestSchema, bytes),
        requestSerialize: (message: ModelInferRequest) => Buffer.from(toBinary(ModelInferRequestSchema, message)),
        responseSerialize: (message: ModelInferResponse) => Buffer.from(toBinary(ModelInferResponseSchema, message)),
        responseDeserialize: (bytes: Buffer) => fromBinary(ModelInferResponseSchema, bytes),
      },
    },
    {
      ModelInfer: (call: { request: ModelInferRequest }, callback: (error: Partial<ServiceError> | null, response?: ModelInferResponse) => void) => {
        const { request } = call;
        const input = request.inputs[0];
        const raw = request.rawInputContents[0];
        if (!input || !raw || raw.byteLength !== FEATURES * 4) return callback({ code: status.INVALID_ARGUMENT, details: 'x FP32 [1, 10] in raw_input_contents' });
        const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        session.run({ x: new Ort.Tensor('float32', data, input.shape.map(Number)) }).then(
          ({ y }) => {
            const values = y.data as Float32Array;
            callback(
              null,
              create(ModelInferResponseSchema, {
                modelName: request.modelName,
                id: request.id,
                outputs: [{ name: 'y', datatype: 'FP32', shape: y.dims.map(BigInt) }],
                rawOutputContents: [new Uint8Array(values.buffer, values.byteOffset, values.byteLength)],
              }),
            );
          },
          (error: Error) => callback({ code: status.INTERNAL, details: error.message }),
        );
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

/** The bare node:http floor: read the JSON body, run the in-process session, answer JSON. */
async function bareHttp(session: Session): Promise<{ address: string; close(): void }> {
  const server: HttpServer = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { id?: string; inputs: Array<{ name: string; shape: number[]; data: number[] }> };
      const [input] = body.inputs;
      session.run({ x: new Ort.Tensor('float32', Float32Array.from(input.data), input.shape) }).then(
        ({ y }) => {
          const text = JSON.stringify({ model_name: MODEL, id: body.id, outputs: [{ name: 'y', datatype: 'FP32', shape: y.dims, data: Array.from(y.data as Float32Array) }] });
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        },
        (error: Error) => response.writeHead(500).end(JSON.stringify({ error: error.message })),
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${port}`, close: () => server.close() };
}

/** The serving service as its specs start it, the model registered from a run and deployed as three endpoints (plain, batching on, logging at 100%). */
async function trellis(dir: string, modelPath: string) {

  const runtimeModule = await buildForWorker(join(__dirname, '..', '..', '..', 'plugins', 'runtime-onnx', 'src'), join(dir, 'worker'));
  const httpPort = await freePort();
  const platform = await TestPlatform.start(
    { TRELLIS_REGISTRY_PORT: '0', TRELLIS_TRACKING_PORT: '0', TRELLIS_SERVING_PORT: '0', TRELLIS_SERVING_HTTP_PORT: String(httpPort), TRELLIS_SERVING_RUNTIME_MODULES: `runtime-onnx=${runtimeModule}` },
    { plugins: [storageFs, runtimeOnnx] },
  );
  const bench = { sub: 'bench', bindings: [{ project: 'p1', role: 'editor' as const }] };
  const tracking = await platform.startService(trackingService);
  const registryRunning = await platform.startService(registryService);
  const serving = await platform.startService(servingService);
  const endpoints = await platform.client(EndpointServiceDesc, serving.grpcAddress, bench);
  const registry = await platform.client(RegistryServiceDesc, registryRunning.grpcAddress, bench);
  const artifacts = await platform.client(ArtifactServiceDesc, tracking.grpcAddress, bench);
  const experimentId = (await (await platform.client(ExperimentServiceDesc, tracking.grpcAddress, bench)).createExperiment({ projectId: 'p1', name: MODEL })).experiment!.id;
  const runId = (await (await platform.client(RunServiceDesc, tracking.grpcAddress, bench)).createRun({ experimentId, runName: 'train' })).run!.info!.id;
  await artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'model/model.onnx' } } }, { part: { case: 'chunk', value: await readFile(modelPath) } }]);
  await registry.createModel({ projectId: 'p1', name: MODEL });
  const { version } = (await registry.createVersion({ projectId: 'p1', modelName: MODEL, source: `runs:/${runId}/model`, runId, format: 'onnx' })).version!;
  await registry.waitVersion({ projectId: 'p1', modelName: MODEL, version }, { timeoutMs: 60_000 });

  const deploy = async (name: string, maxBatchSize: number, predictionLogShare = 0): Promise<string> => {
    const endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name, model: `models:/${MODEL}/${version}`, batching: { maxBatchSize, maxQueueDelayUs: 0n }, predictionLogShare })).endpoint!;
    for (const deadline = Date.now() + 60_000; ; ) {
      const [revision] = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions;
      if (revision.state === RevisionState.READY) return endpoint.id;
      if (revision.state === RevisionState.FAILED) throw new Error(`revision of ${name} failed: ${revision.stateMessage}`);
      if (Date.now() > deadline) throw new Error(`revision of ${name} not READY after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  // The main endpoint unbatched, as the bare servers answer one request per run.
  await deploy(MODEL, 1);
  await deploy(VARIANTS['batching-on'], 64);
  await deploy(VARIANTS['logging-100%'], 1, 1);
  /** A sample of serving's metric `name` whose labels include `labels`; 0 when there is none. */
  const metric = async (name: string, labels: Record<string, string>) =>
    (await platform.runtime.metrics.registry.getSingleMetric(name)?.get())?.values.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value ?? 0;
  /** The requests and runs of endpoint `name`'s model since it was loaded, as serving's metrics read them from its runtime's stats(). */
  const modelRuns = async (name: string) => ({ requests: await metric('trellis_serving_model_requests', { endpoint: name }), runs: await metric('trellis_serving_batch_size_runs', { endpoint: name, le: '+Inf' }) });
  return { grpc: serving.grpcAddress, rest: `127.0.0.1:${httpPort}`, token: await platform.keys.mint({ ...bench, ttlSeconds: 24 * 3600 }), modelRuns, stop: () => platform.stop() };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oip-bench-'));
  const callers = new Callers();
  const closers: Array<() => unknown> = [];
  try {
    const modelPath = await writeModel('mlp', join(dir, 'mlp.onnx'));
    const session = await Ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    closers.push(() => session.release());
    const grpcBare = await bareGrpc(session);
    closers.push(() => grpcBare.close());
    const httpBare = await bareHttp(session);
    closers.push(() => httpBare.close());
    const platform = await trellis(dir, modelPath);
    closers.unshift(() => platform.stop());

    const inProcess = (i: number) => session.run({ x: new Ort.Tensor('float32', new Float32Array(rows[i % rows.length]), [1, FEATURES]) });
    const latencies = async (arm: Arm, inFlight: number, count: number, model: string): Promise<Measure> => {
      switch (arm) {
        case 'in-process':
          await closedLoop(warmUpCalls(inFlight), inFlight, inProcess);
          return closedLoop(count, inFlight, inProcess);
        case 'grpc-bare':
          return callers.run({ kind: 'grpc', address: grpcBare.address, model, token: platform.token, inFlight, count });
        case 'http-bare':
          return callers.run({ kind: 'rest', address: httpBare.address, model, token: platform.token, inFlight, count });
        case 'trellis-grpc':
          return callers.run({ kind: 'grpc', address: platform.grpc, model, token: platform.token, inFlight, count });
        case 'trellis-rest':
          return callers.run({ kind: 'rest', address: platform.rest, model, token: platform.token, inFlight, count });
      }
    };
    const measure = async (arm: Arm, inFlight: number, count: number, model = MODEL): Promise<Measure> => {
      const before = process.cpuUsage();
      const measured = await latencies(arm, inFlight, count, model);
      const used = process.cpuUsage(before);
      return { ...measured, cpuUs: (used.user + used.system) / (count + warmUpCalls(inFlight)) };
    };
    const countAt = (inFlight: number) => (inFlight === 1 ? CALLS : CALLS * 5);

    // Warm-up: every arm at every concurrency once, unrecorded.
    for (const inFlight of CONCURRENCY) for (const arm of SELECTED) await measure(arm, inFlight, Math.min(countAt(inFlight), 1000));

    const rounds = new Map<string, Measure[]>();
    const record = (key: string, value: Measure) => rounds.set(key, [...(rounds.get(key) ?? []), value]);
    const loads: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(loadavg()[0]);
      for (const inFlight of CONCURRENCY) {
        // Interleaved: the arms' order rotates each round.
        const order = SELECTED.map((_, i) => SELECTED[(i + round) % SELECTED.length]);
        for (const arm of order) record(`${arm}@${inFlight}`, await measure(arm, inFlight, countAt(inFlight)));
      }
      if (BATCHING && SELECTED.includes('trellis-grpc')) {
        const variants = Object.entries(VARIANTS);
        for (let i = 0; i < variants.length; i++) {
          const [figure, model] = variants[(i + round) % variants.length];
          record(figure, await measure('trellis-grpc', 64, countAt(64), model));
        }
      }
    }
    loads.push(loadavg()[0]);

    const med = (key: string): Measure | undefined => {
      const values = rounds.get(key);
      return values && { p50: median(values.map((v) => v.p50)), p99: median(values.map((v) => v.p99)), rate: median(values.map((v) => v.rate)), cpuUs: median(values.map((v) => v.cpuUs ?? 0)) };
    };
    const span = (key: string) => {
      const rates = (rounds.get(key) ?? []).map((v) => v.rate);
      return `${Math.round(Math.min(...rates))}-${Math.round(Math.max(...rates))}`;
    };
    const fmt = (value: number) => value.toFixed(0).padStart(8);
    console.log(`OIP bench: ${ROUNDS} rounds, ${CALLS} requests per arm at 1 in flight, ${CALLS * 5} at 16 and 64; ${cpus().length} cores (${cpus()[0]?.model}), node ${process.version}`);
    console.log(`load average (1 min) at each round's start and the end: ${loads.map((load) => load.toFixed(1)).join(' ')}`);
    console.log(`${'arm'.padEnd(14)}${'in flight'.padStart(10)}${'p50 us'.padStart(8)}${'p99 us'.padStart(8)}${'req/s'.padStart(8)}${'CPU us'.padStart(8)}  req/s over rounds (CPU: the server process's per request)`);
    for (const arm of SELECTED) {
      for (const inFlight of CONCURRENCY) {
        const m = med(`${arm}@${inFlight}`)!;
        console.log(`${arm.padEnd(14)}${String(inFlight).padStart(10)}${fmt(m.p50)}${fmt(m.p99)}${fmt(m.rate)}${fmt(m.cpuUs!)}  ${span(`${arm}@${inFlight}`)}`);
      }
    }
    const ratio = (figure: string, baseline: string, pick: (m: Measure) => number) => {
      const a = med(figure);
      const b = med(baseline);
      return a && b ? pick(a) / pick(b) : undefined;
    };
    const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
    for (const inFlight of CONCURRENCY) {
      const grpc = ratio(`trellis-grpc@${inFlight}`, `grpc-bare@${inFlight}`, (m) => m.p50);
      const rest = ratio(`trellis-rest@${inFlight}`, `http-bare@${inFlight}`, (m) => m.p50);
      const parts = [];
      if (grpc !== undefined) parts.push(`Trellis/bare gRPC p50 ${grpc.toFixed(2)}x${inFlight === 1 ? ` (target <= ${TARGETS.grpcP50}x: ${verdict(grpc <= TARGETS.grpcP50)})` : ''}`);
      if (rest !== undefined) parts.push(`Trellis/bare REST p50 ${rest.toFixed(2)}x${inFlight === 1 ? ` (target <= ${TARGETS.restP50}x: ${verdict(rest <= TARGETS.restP50)})` : ''}`);
      if (parts.length) console.log(`at ${inFlight} in flight: ${parts.join('; ')}`);
    }
    const trellisOne = med('trellis-grpc@1');
    const bareOne = med('grpc-bare@1');
    const modelOne = med('in-process@1');
    if (trellisOne && bareOne && modelOne) {
      console.log(
        `server overhead at 1 in flight (gRPC p50): Trellis - bare grpc-js ${(trellisOne.p50 - bareOne.p50).toFixed(0)} us; Trellis - in-process model ${(trellisOne.p50 - modelOne.p50).toFixed(0)} us (bare grpc-js - in-process ${(bareOne.p50 - modelOne.p50).toFixed(0)} us); Triton's own: ~${TARGETS.tritonOverheadUs} us`,
      );
    }
    const cpuOverhead = (trellisArm: Arm, bareArm: Arm) =>
      CONCURRENCY.map((inFlight) => {
        const [a, b] = [med(`${trellisArm}@${inFlight}`), med(`${bareArm}@${inFlight}`)];
        return a && b ? `${inFlight} in flight ${a.cpuUs!.toFixed(0)} - ${b.cpuUs!.toFixed(0)} = ${(a.cpuUs! - b.cpuUs!).toFixed(0)} us` : undefined;
      }).filter(Boolean);
    const cpuGrpc = cpuOverhead('trellis-grpc', 'grpc-bare');
    if (cpuGrpc.length) console.log(`server CPU per request over gRPC, Trellis - bare grpc-js: ${cpuGrpc.join('; ')}`);
    const cpuRest = cpuOverhead('trellis-rest', 'http-bare');
    if (cpuRest.length) console.log(`server CPU per request over REST, Trellis - bare node:http: ${cpuRest.join('; ')}`);
    const rest1 = med('trellis-rest@1');
    const httpOne = med('http-bare@1');
    if (rest1 && httpOne) console.log(`REST at 1 in flight (p50): Trellis - bare node:http ${(rest1.p50 - httpOne.p50).toFixed(0)} us`);
    const at64 = med('trellis-grpc@64');
    if (at64) console.log(`Trellis gRPC at 64 in flight: ${Math.round(at64.rate)} req/s (target >= ${TARGETS.grpcRate64}: ${verdict(at64.rate >= TARGETS.grpcRate64)}; MLServer ~2,800)`);
    const plain = med('batching-off, logging-off');
    if (plain) {
      const describe = (figure: string, m: Measure) => `${figure} ${Math.round(m.rate)} req/s (p50 ${m.p50.toFixed(0)} us, rounds ${span(figure)})`;
      console.log(`Trellis gRPC at 64 in flight, each a separate endpoint of the model: ${describe('batching-off, logging-off', plain)}`);
      const on = med('batching-on')!;
      console.log(`  dynamic batching on: ${describe('batching-on', on)}: ${(on.rate / plain.rate).toFixed(2)}x off (target >= ${TARGETS.batching}x: ${verdict(on.rate / plain.rate >= TARGETS.batching)})`);
      const batched = await platform.modelRuns(VARIANTS['batching-on']);
      console.log(`    its model ran ${batched.requests} requests in ${batched.runs} runs since loaded (warm-up included): ${(batched.requests / batched.runs).toFixed(1)} rows per run`);
      const logging = med('logging-100%')!;
      console.log(`  prediction logging at 100%: ${describe('logging-100%', logging)}: ${(logging.rate / plain.rate).toFixed(2)}x off (target >= ${TARGETS.logging}x: ${verdict(logging.rate / plain.rate >= TARGETS.logging)})`);
    }
  } finally {
    callers.close();
    for (const close of closers) await close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--callers')) {
  callers();
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
