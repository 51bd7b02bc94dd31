// What the service kit costs the server per unary call, in CPU time, which a loaded machine moves far
// less than latency: the server process's CPU (process.cpuUsage) per call through the kit (its
// grpc-js transport, request limits, auth guard with a real EdDSA token and a permission check,
// status interceptor and metrics) against a bare @grpc/grpc-js server answering the same message
// with the same protobuf-es serializers. Both handlers tie an AbortController to the call's
// 'cancelled' event, as serving's ModelInfer does, and the service has run one SQLite transaction,
// as any service that wrote something has. The callers run in a child process (its CPU is not
// counted) at 1 and 64 calls in flight; kit and bare alternate within each round, which goes first
// alternating. Prints the medians over rounds of the server's CPU us per call and the kit's own
// share (kit - bare), with the load average.
// Run: node tools/bench/run.cjs tools/bench/kit/unary-cpu.bench.ts
// Env: BENCH_ROUNDS (7), BENCH_CALLS (calls per part, 4000).
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { createGrpcClient, defineService, loadConfig, PlatformRuntime, startService } from '@trellis/platform';
import { TestKeySet } from '@trellis/platform/testing';
import { WidgetService } from '../../../libs/platform/test/gen/trellis/kittest/v1/widget_service_pb';
import { startBareWidgetServer, widgetBenchModule } from './widget-bench-servers';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 4000);
const IN_FLIGHT = [1, 64];

/** What a handler that stops its work when the client goes away does on every call. */
function tieToCall(call: ServerUnaryCall<unknown, unknown> | undefined): void {
  const aborted = new AbortController();
  call?.once('cancelled', () => aborted.abort());
}

/** What the parent asks the callers' process to do. */
interface Job {
  address: string;
  token: string;
  calls: number;
  inFlight: number;
}

/** The callers' process: runs each job it is sent and answers when the calls are done. */
async function callers(): Promise<void> {
  const clients = new Map<string, ReturnType<typeof createGrpcClient<(typeof WidgetService)['method']>>>();
  process.on('message', async (job: Job) => {
    let client = clients.get(job.address);
    if (!client) clients.set(job.address, (client = createGrpcClient(WidgetService, job.address, { token: job.token })));
    let next = 0;
    await Promise.all(Array.from({ length: job.inFlight }, async () => {
      while (next++ < job.calls) await client.getWidget({ id: 'w1' });
    }));
    process.send?.('done');
  });
  process.send?.('ready');
}

function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`callers' process exited with ${code}`));
    child.once('exit', exited).once('message', (message) => {
      child.off('exit', exited);
      resolve(message);
    });
  });
}

/** The server's CPU time per call, in microseconds, while the callers make `calls` calls. */
async function cpuPerCall(child: ChildProcess, job: Job): Promise<number> {
  const before = process.cpuUsage();
  child.send(job);
  await nextMessage(child);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / job.calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-'));
  const keys = await TestKeySet.create();
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.jwks));
  const config = loadConfig({ env: { TRELLIS_DATA_DIR: dir, TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'), TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'warn' } });
  const runtime = await PlatformRuntime.create(config);
  const kit = await startService(defineService({ name: 'bench', defaultPort: 0, module: widgetBenchModule(tieToCall), grpcServices: [WidgetService] }), runtime);
  await kit.dataSource.transaction((manager) => manager.query('SELECT 1'));
  const bare = await startBareWidgetServer(tieToCall);
  const token = await keys.mint({ sub: 'bench', bindings: [{ project: 'p1', role: 'viewer' }] });
  const child = fork(join(__dirname, '..', 'run.cjs'), [__filename, '--callers'], { execArgv: [], stdio: 'inherit' });
  await nextMessage(child);

  const loads = [loadavg()[0]];
  const servers = [['kit', kit.grpcAddress], ['bare', bare.address]] as const;
  for (const [, address] of servers) await cpuPerCall(child, { address, token, calls: 2000, inFlight: 16 });
  const perCall: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const inFlight of IN_FLIGHT) {
      for (const [who, address] of round % 2 === 0 ? servers : [...servers].reverse()) {
        (perCall[`${who} ${inFlight}`] ??= []).push(await cpuPerCall(child, { address, token, calls: CALLS, inFlight }));
      }
    }
    loads.push(loadavg()[0]);
  }

  console.log(`kit unary CPU bench: ${ROUNDS} rounds, ${CALLS} calls per part; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
  console.log(`load average (1 min) at the start and after each round: ${loads.map((load) => load.toFixed(1)).join(' ')}`);
  console.log('in flight   bare us/call   kit us/call   kit/bare   kit - bare (us)   over rounds (kit - bare)');
  for (const inFlight of IN_FLIGHT) {
    const kits = perCall[`kit ${inFlight}`];
    const bares = perCall[`bare ${inFlight}`];
    const differences = kits.map((value, round) => value - bares[round]);
    console.log(
      `${String(inFlight).padStart(9)}   ${median(bares).toFixed(1).padStart(12)}   ${median(kits).toFixed(1).padStart(11)}   ${(median(kits) / median(bares)).toFixed(2).padStart(8)}   ${median(differences).toFixed(1).padStart(15)}   ${Math.min(...differences).toFixed(1)} to ${Math.max(...differences).toFixed(1)}`,
    );
  }

  child.kill();
  bare.stop();
  await kit.close();
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
}

(process.argv[2] === '--callers' ? callers() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
