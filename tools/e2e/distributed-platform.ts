import { createTestDatabase, testNatsConfig, testPostgresUrl, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The processes of distributed mode, in start order: each service, then the gateway. */
export const SERVICES = ['governance', 'tracking', 'registry', 'data', 'compute', 'serving', 'monitoring'] as const;
export type Service = (typeof SERVICES)[number];
export type Program = Service | 'gateway';

/** Where one process listens: its gRPC address (services), HTTP base URL (the gateway; serving's REST API) and ops URL. */
export interface Listening {
  grpc?: string;
  http?: string;
  ops: string;
}

/** The platform `npm run start:distributed` runs, one process per service, under a spec's control. */
export interface DistributedPlatform {
  /** The gateway's base URL. */
  readonly gateway: string;
  /** The first admin's API key. */
  readonly adminKey: string;
  readonly processes: Readonly<Record<Program, Listening>>;
  /** The data directory every process shares (artifacts, the services' key files). */
  readonly dataDir: string;
  /** Everything the processes and the script printed so far, each line prefixed by its program. */
  output(): string;
  /**
   * Stops one process, a program or a second process `surge` started: SIGTERM drains it, SIGKILL
   * is a crash. Resolves once it has exited.
   */
  stop(process: Program | string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /**
   * Starts a second process of a program on ports of its own, as a rolling update's new replica
   * (`from`: a built checkout, null: this one, left out: the program's), and resolves with its
   * name (for `stop`) and where it listens, once its /readyz answers 200.
   */
  surge(program: Program, options?: { from?: string | null; env?: Record<string, string> }): Promise<{ name: string; listening: Listening }>;
  /**
   * Starts a stopped process again on its old ports. `from`: a built checkout (null: this one;
   * left out: where it ran before); `env`: settings of this start only, over the script's (e.g. an
   * upstream's address through a TCP proxy). Resolves once its /readyz answers 200.
   */
  start(program: Program, options?: { from?: string | null; env?: Record<string, string> }): Promise<void>;
  /** Stops every process and removes the databases, the stream and the data directory. */
  close(): Promise<void>;
}

export interface DistributedPlatformOptions {
  /** Programs to run from another built checkout (e.g. the previous release's), by name. */
  from?: Partial<Record<Program, string>>;
  /** PostgreSQL server the services' databases are made on; by default the test server. */
  postgresUrl?: string;
  /** NATS server; by default the test server, with a stream of this platform's own. */
  natsUrl?: string;
  /** More settings for every process. */
  env?: Record<string, string>;
}

/**
 * Starts distributed mode as `npm run start:distributed` does (the same script), with a database per
 * service, a JetStream stream, a data directory and every port of its own, so it runs beside
 * anything else; the spec then stops, kills, restarts and swaps processes through the script.
 */
export async function startDistributedPlatform(options: DistributedPlatformOptions = {}): Promise<DistributedPlatform> {
  const postgresUrl = options.postgresUrl ?? testPostgresUrl();
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  for (let i = 0; i < SERVICES.length; i++) databases.push(await createTestDatabase(postgresUrl));
  const nats: TestNatsConfig = testNatsConfig(options.natsUrl);
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-distributed-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...nats.env,
    TRELLIS_DATABASE_URL: postgresUrl,
    TRELLIS_DATA_DIR: dataDir,
    TRELLIS_OPS_PORT: '0',
    TRELLIS_SERVING_HTTP_PORT: '0',
    // The script picks the gateway's port before compute starts, and gives compute the gateway's URL for its jobs.
    TRELLIS_GATEWAY_PORT: '0',
    TRELLIS_LOG_LEVEL: process.env.TRELLIS_LOG_LEVEL ?? 'info',
    ...options.env,
  };
  for (const [index, service] of SERVICES.entries()) {
    env[`TRELLIS_${service.toUpperCase()}_PORT`] = '0';
    env[`TRELLIS_${service.toUpperCase()}_DATABASE_URL`] = databases[index].config.url;
  }
  const args = Object.entries(options.from ?? {}).flatMap(([program, checkout]) => ['--from', `${program}=${checkout}`]);
  const script = fork(join(ROOT, 'tools/start-distributed.mjs'), args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  for (const stream of [script.stdout!, script.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const cleanUp = async () => {
    if (script.exitCode === null && script.signalCode === null) {
      script.kill('SIGTERM');
      await once(script, 'exit');
    }
    await nats.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };

  let up: { adminKey: string; processes: Record<Program, Listening> };
  try {
    up = await untilUp(script, () => output);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const request = requester(script, () => output);
  return {
    gateway: up.processes.gateway.http!,
    adminKey: up.adminKey,
    processes: up.processes,
    dataDir,
    output: () => output,
    stop: async (name, signal = 'SIGTERM') => void (await request({ type: 'stop', service: name, signal })),
    start: async (program, { from, env } = {}) => void (await request({ type: 'start', service: program, from, env })),
    surge: async (program, { from, env } = {}) => {
      const { name, listening } = await request({ type: 'surge', service: program, from, env });
      return { name: name!, listening: listening! };
    },
    close: cleanUp,
  };
}

/** Resolves with the script's `up` message; rejects with its output when it exits first. */
function untilUp(script: ChildProcess, output: () => string): Promise<{ adminKey: string; processes: Record<Program, Listening> }> {
  return new Promise((resolveUp, reject) => {
    const onExit = (code: number | null) => reject(new Error(`start:distributed exited (${code}) before it was up:\n${output()}`));
    script.once('exit', onExit);
    script.on('message', function onUp(message: { type?: string; adminKey: string; processes: Record<Program, Listening> }) {
      if (message.type !== 'up') return;
      script.off('message', onUp);
      script.off('exit', onExit);
      resolveUp(message);
    });
  });
}

/** Sends the script one control request at a time and resolves when it answers. */
function requester(script: ChildProcess, output: () => string) {
  let next = 0;
  return (request: { type: 'stop' | 'start' | 'surge'; service: string; signal?: string; from?: string | null; env?: Record<string, string> }) =>
    new Promise<{ name?: string; listening?: Listening }>((done, failed) => {
      const id = ++next;
      const own = () => output().split('\n').filter((line) => line.startsWith(`[${request.service}] `)).slice(-40).join('\n');
      const onExit = (code: number | null) => failed(new Error(`start:distributed exited (${code}) during ${request.type} ${request.service}; its last lines:\n${own()}`));
      const onMessage = (message: { id?: number; ok: boolean; error?: string; name?: string; listening?: Listening }) => {
        if (message.id !== id) return;
        script.off('message', onMessage);
        script.off('exit', onExit);
        if (message.ok) done(message);
        else failed(new Error(`${request.type} ${request.service}: ${message.error}`));
      };
      script.on('message', onMessage);
      script.once('exit', onExit);
      script.send({ id, ...request });
    });
}
