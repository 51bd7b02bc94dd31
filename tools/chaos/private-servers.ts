import { closedPort, eventually } from '@trellis/testing';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'nats';
import { Client } from 'pg';

const run = promisify(execFile);

/** How long a server may take to accept connections after its start, on a busy machine. */
const READY_TIMEOUT_MS = 60_000;

/**
 * A server of one spec's own, which the spec may stop and start (the machine's shared PostgreSQL
 * and NATS serve other suites at the same time, so a chaos spec never stops those).
 */
export interface PrivateServer {
  /** Where clients connect: `nats://127.0.0.1:<port>` or `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** Stops the server and keeps its data; resolves once it no longer runs. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it if it runs and removes its data. */
  close(): Promise<void>;
}

/** A private PostgreSQL; `stop` is a fast shutdown (clients disconnected, a checkpoint written). */
export interface PrivatePostgres extends PrivateServer {
  /** A fast shutdown, then a start: what an operator's `pg_ctl restart` does. */
  restart(): Promise<void>;
}

/**
 * Starts `nats-server` with JetStream on a free port of 127.0.0.1, its store in a new temporary
 * directory. `stop` kills the process (SIGKILL: an outage, not a drain) and keeps the store, so
 * `start` brings back the streams and their consumers as they were.
 */
export async function startPrivateNats(): Promise<PrivateServer> {
  const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((path) => existsSync(path));
  if (!binary) throw new Error('a private NATS needs nats-server (Debian: apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'trellis-chaos-nats-'));
  const port = await closedPort();
  const url = `nats://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    const child = spawn(binary, ['-js', '-sd', join(dir, 'store'), '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server = child;
    await untilAccepting(child, () => output, async () => {
      const connection = await connect({ servers: url, reconnect: false });
      try {
        await (await connection.jetstreamManager()).getAccountInfo();
      } finally {
        await connection.close();
      }
    });
  };
  const stop = async () => {
    if (!server || exited(server)) return;
    server.kill('SIGKILL');
    await once(server, 'exit');
  };

  await start();
  return {
    url,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a PostgreSQL cluster of its own (Debian's newest binaries under /usr/lib/postgresql) on a
 * free port of 127.0.0.1, trusting every local connection, its data and socket in a new temporary
 * directory. initdb refuses to run as root, so the cluster runs as the `postgres` user through
 * `runuser`, which needs root: as CI runs here.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (process.getuid?.() !== 0) {
    throw new Error('a private PostgreSQL runs its cluster as the postgres user through runuser, which needs root: run this spec as root (as CI does)');
  }
  const bin = postgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'trellis-chaos-pg-'));
  const { uid, gid } = await postgresUser();
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const port = await closedPort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const asPostgres = (program: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args]);

  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  // Seven services' connection pools and the spec's own clients outgrow the default 100.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300`;
  const start = async () => {
    await asPostgres('pg_ctl', ['start', '-D', data, '-l', log, '-o', options, '--no-wait']);
    await untilAccepting(undefined, () => logOf(log), async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('SELECT 1');
      } finally {
        await client.end();
      }
    });
  };
  const stop = async () => {
    if (existsSync(join(data, 'postmaster.pid'))) await asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'fast', '--wait']);
  };

  await start();
  return {
    url,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `accepts` succeeds; fails with the server's output if it exits first or never accepts. */
async function untilAccepting(server: ChildProcess | undefined, output: () => string, accepts: () => Promise<void>): Promise<void> {
  let gone: boolean;
  try {
    gone = await eventually(
      async () => {
        if (server && exited(server)) return true;
        await accepts();
        return false;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`the server did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${(error as Error).message}); its output:\n${output().slice(-4000)}`, { cause: error });
  }
  if (gone) throw new Error(`the server exited (${server?.exitCode ?? server?.signalCode}); its output:\n${output().slice(-4000)}`);
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** The bin directory of the newest PostgreSQL Debian installed. */
function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((version) => existsSync(join(root, version, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`a private PostgreSQL needs Debian's server binaries under ${root}/<version>/bin (apt-get install postgresql)`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

function logOf(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '(no log yet)';
}
