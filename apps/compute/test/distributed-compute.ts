import 'reflect-metadata';
import { dataService } from '@trellis/data';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService, issueServiceKeyAsOperator } from '@trellis/governance';
import { loadConfig, runProcess, type RunningProcess } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { closedPort, createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

/** The API key of governance's first admin in the stack. */
export const ADMIN_KEY = `trellis_00000000000000dd_${'D'.repeat(43)}`;

/** The platform a compute spec runs against, distributed, with the compute service as its own process. */
export interface DistributedCompute {
  /** The gateway's base URL. */
  readonly gateway: string;
  /** The spec's scratch folder: the compute service keeps its data (compute-local's jobs among them) in `<dir>/compute`. */
  readonly dir: string;
  /** The compute service's PostgreSQL database. */
  readonly computeDatabaseUrl: string;
  /** What the compute processes printed, for a failing spec to show. */
  readonly computeOutput: string;
  /** A call to a gRPC method through the gateway's JSON route with an API key; an answer other than 200 throws, saying it. */
  call<T = Record<string, unknown>>(method: string, body: object, key: string): Promise<T>;
  /** Starts apps/compute as its own process, `env` on top of its settings, and waits until the gateway reaches it. */
  startCompute(env?: Record<string, string>): Promise<ChildProcess>;
  /** Stops the compute process still running, the platform, NATS and the databases, and restores `process.env`. */
  stop(): Promise<void>;
}

/**
 * Governance, tracking, data and the gateway in this process, distributed (a PostgreSQL database each,
 * NATS), with the gateway's compute upstream at a port that `startCompute` gives the compute service,
 * which gets its own database and a service key. It changes `process.env` until `stop`.
 */
export async function startDistributedCompute(name: string): Promise<DistributedCompute> {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), `trellis-${name}-`));
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig | undefined;
  let platform: RunningProcess | undefined;
  let compute: ChildProcess | undefined;
  let computeOutput = '';

  const stop = async () => {
    if (compute && compute.exitCode === null && compute.signalCode === null) {
      compute.kill('SIGTERM');
      await once(compute, 'exit');
    }
    await platform?.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 4; i++) databases.push(await createTestDatabase());
    const [governanceDb, trackingDb, dataDb, computeDb] = databases;
    nats = testNatsConfig();
    const computePort = await closedPort();
    const gatewayPort = await closedPort();
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    Object.assign(process.env, {
      ...nats.env,
      TRELLIS_MODE: 'distributed',
      TRELLIS_DATA_DIR: join(dir, 'platform'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_DATABASE_URL: governanceDb.config.url,
      TRELLIS_TRACKING_DATABASE_URL: trackingDb.config.url,
      TRELLIS_DATA_DATABASE_URL: dataDb.config.url,
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_DATA_PORT: '0',
      TRELLIS_GATEWAY_PORT: String(gatewayPort),
      TRELLIS_GATEWAY_UPSTREAM_COMPUTE: `127.0.0.1:${computePort}`,
    });
    const running = await runProcess({ mode: 'distributed', services: [governanceService, trackingService, dataService], edges: [gatewayEdge], plugins: [storageFs, kmsLocal], print: () => undefined });
    platform = running;
    const address = (service: string) => running.services.find((one) => one.name === service)!.grpcAddress;
    const computeEnv: Record<string, string> = {
      ...(saved as Record<string, string>),
      ...nats.env,
      TRELLIS_MODE: 'distributed',
      TRELLIS_DATA_DIR: join(dir, 'compute'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'warn',
      TRELLIS_AUTH_JWKS_URL: `${running.opsAddress}/.well-known/jwks.json`,
      TRELLIS_COMPUTE_PORT: String(computePort),
      TRELLIS_COMPUTE_DATABASE_URL: computeDb.config.url,
      TRELLIS_COMPUTE_CREDENTIAL: 'env:SPEC_COMPUTE_KEY',
      SPEC_COMPUTE_KEY: (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'compute')).secret,
      TRELLIS_COMPUTE_TRACKING_URI: gateway,
      TRELLIS_GOVERNANCE_ADDRESS: address('governance'),
      TRELLIS_TRACKING_ADDRESS: address('tracking'),
      TRELLIS_DATA_ADDRESS: address('data'),
    };

    const call = async <T = Record<string, unknown>>(method: string, body: object, key: string): Promise<T> => {
      const response = await fetch(`${gateway}/v1/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${method} answered ${response.status}: ${text}`);
      return JSON.parse(text) as T;
    };
    const startCompute = async (env: Record<string, string> = {}): Promise<ChildProcess> => {
      const started = spawn(process.execPath, ['tools/bench/run.cjs', 'apps/compute/src/main.ts'], { cwd: ROOT, env: { ...computeEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout!.on('data', (chunk: Buffer) => (computeOutput += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (computeOutput += chunk.toString()));
      compute = started;
      // The child compiles the service's sources as it loads them, which on a busy 2-core machine
      // takes a while; a child that exits instead fails the start at once, with what it printed.
      const exited = new Promise<never>((_, failed) => started.once('exit', (code) => failed(new Error(`compute exited (${code}) before it answered:\n${computeOutput}`))));
      await Promise.race([eventually(() => call('trellis.compute.v1.JobService/ListPriorityClasses', {}, ADMIN_KEY), { timeoutMs: 120_000, intervalMs: 200 }), exited]);
      exited.catch(() => undefined);
      return started;
    };
    return {
      gateway,
      dir,
      computeDatabaseUrl: computeDb.config.url,
      get computeOutput() {
        return computeOutput;
      },
      call,
      startCompute,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
