// A real one-node Slurm cluster for specs and benches: slurmctld, slurmd and slurmrestd (JWT) on
// free ports, with a config of its own in a fresh run dir, so several can run side by side. Needs
// root, Slurm 22.05 and a running munged (tools/services/ensure-services.sh installs and starts them).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running test cluster. */
export interface SlurmCluster {
  /** The cluster's slurm.conf: pass it as `SLURM_CONF` to Slurm's commands, or as the plugin's `slurmConf`. */
  slurmConf: string;
  /** slurmrestd with JWT auth: `http://127.0.0.1:<port>`. */
  restUrl: string;
  /** The JWT key slurmctld verifies tokens with (text: 64 hex digits). */
  jwtKeyPath: string;
  /** A directory every job's user may write to (mode 1777): the plugin's `workDir`. */
  jobsDir: string;
  /** The partition, and the fake GPUs of the node (GRES over /dev/null). */
  partition: string;
  gpus: { type: string; count: number };
  /** Cancels every job, stops the daemons by their pid files and removes the run dir. */
  stop(): Promise<void>;
}

/** What `startSlurmCluster` may be told. */
export interface SlurmClusterOptions {
  /** The node's fake GPUs (default 2 of type `tesla`). */
  gpus?: { type: string; count: number };
  /** The one partition (default `debug`). */
  partition?: string;
}

const TEMPLATE = join(__dirname, 'slurm.conf.template');
const DAEMONS = ['slurmrestd', 'slurmd', 'slurmctld'] as const;

/** Starts a cluster and resolves once its node is idle; throws with the reason (and the daemons' logs) when it cannot. */
export async function startSlurmCluster(options: SlurmClusterOptions = {}): Promise<SlurmCluster> {
  await checkPrerequisites();
  const gpus = options.gpus ?? { type: 'tesla', count: 2 };
  const partition = options.partition ?? 'debug';
  const dir = await mkdtemp(join(tmpdir(), 'trellis-slurm-'));
  // slurmrestd runs as the slurm user and jobs may run as another one: they read the config here.
  await chmod(dir, 0o755);
  const stop = () => stopCluster(dir);
  try {
    const [ctld, slurmd, rest] = await freePorts(3);
    for (const sub of ['state', 'spool', 'log', 'dev']) await mkdir(join(dir, sub));
    const jobsDir = join(dir, 'jobs');
    await mkdir(jobsDir);
    await chmod(jobsDir, 0o1777);
    const jwtKeyPath = join(dir, 'jwt.key');
    await writeFile(jwtKeyPath, randomBytes(32).toString('hex'), { mode: 0o600 });
    const values: Record<string, string> = {
      RUN: dir,
      CLUSTER: `t${randomBytes(4).toString('hex')}`,
      CTLD_PORT: String(ctld),
      SLURMD_PORT: String(slurmd),
      GPU_TYPE: gpus.type,
      GPU_COUNT: String(gpus.count),
      PARTITION: partition,
    };
    const slurmConf = join(dir, 'slurm.conf');
    await writeFile(slurmConf, (await readFile(TEMPLATE, 'utf8')).replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? ''));
    // Slurm wants a device file per GPU; /dev/null stands in for each.
    for (let index = 0; index < gpus.count; index++) await symlink('/dev/null', join(dir, 'dev', `gpu${index}`));
    await writeFile(join(dir, 'gres.conf'), `NodeName=localhost Name=gpu Type=${gpus.type} File=${dir}/dev/gpu[0-${gpus.count - 1}]\n`);

    const env = { ...process.env, SLURM_CONF: slurmConf };
    await run('slurmctld', [], { env });
    await run('slurmd', ['-N', 'localhost'], { env });
    await startRest(dir, slurmConf, rest);
    await untilIdle(dir, env);
    return { slurmConf, restUrl: `http://127.0.0.1:${rest}`, jwtKeyPath, jobsDir, partition, gpus, stop };
  } catch (error) {
    const logs = await daemonLogs(dir);
    await stop();
    throw new Error(`the test Slurm cluster did not start: ${(error as Error).message}${logs}`, { cause: error });
  }
}

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test Slurm cluster needs root (slurmd runs jobs as their users)');
  const missing: string[] = [];
  for (const program of ['slurmctld', 'slurmd', 'slurmrestd', 'sinfo', 'munge']) {
    await run('sh', ['-c', `command -v ${program}`]).catch(() => missing.push(program));
  }
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not found: run tools/services/ensure-services.sh (installs slurm-wlm, munge and slurmrestd)`);
  await run('sh', ['-c', 'munge -n | unmunge']).catch(() => {
    throw new Error('munged is not running: run tools/services/ensure-services.sh (starts it)');
  });
}

/** slurmrestd as the slurm user (it refuses root), JWT only, OpenAPI v0.0.38 only (there is no slurmdbd). */
async function startRest(dir: string, slurmConf: string, port: number): Promise<void> {
  const log = openSync(join(dir, 'log', 'slurmrestd.log'), 'a');
  const child = spawn('runuser', ['-u', 'slurm', '--', 'env', `SLURM_CONF=${slurmConf}`, 'SLURM_JWT=daemon', 'slurmrestd', '-s', 'openapi/v0.0.38', '-a', 'rest_auth/jwt', `127.0.0.1:${port}`], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  await writeFile(join(dir, 'slurmrestd.pid'), String(child.pid));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`slurmrestd exited with code ${child.exitCode}`);
    return listening(port);
  }, 'slurmrestd to listen');
}

async function untilIdle(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  await until(async () => {
    const { stdout } = await run('sinfo', ['-h', '-N', '-o', '%t'], { env }).catch(() => ({ stdout: '' }));
    if (/inval|drain/.test(stdout)) throw new Error(`the node is ${stdout.trim()}`);
    return stdout.trim() === 'idle';
  }, 'the node to be idle');
}

/** Polls `ready` until it is true; fails after 30 s, naming what it waited for. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopCluster(dir: string): Promise<void> {
  const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
  // slurmd leaves running jobs' processes behind when it is killed: cancel them first.
  const jobs = await run('squeue', ['-h', '-o', '%i'], { env }).then(({ stdout }) => stdout.split('\n').filter(Boolean), () => []);
  if (jobs.length > 0) {
    await run('scancel', jobs, { env }).catch(() => undefined);
    await until(async () => (await run('squeue', ['-h', '-t', 'R,CG', '-o', '%i'], { env }).catch(() => ({ stdout: '' }))).stdout.trim() === '', 'cancelled jobs to end').catch(() => undefined);
  }
  for (const daemon of DAEMONS) {
    const pid = Number(await readFile(join(dir, `${daemon}.pid`), 'utf8').catch(() => ''));
    if (pid > 0) await killAndWait(pid);
  }
  await rm(dir, { recursive: true, force: true });
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await until(async () => !alive(pid), `process ${pid} to exit`).catch(() => process.kill(pid, 'SIGKILL'));
}

/** Whether `pid` runs (a zombie waiting for its parent counts as ended). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\S+\s+\S+\s+Z/.test(readStat(pid));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x');
  } catch {
    return '';
  }
}

async function daemonLogs(dir: string): Promise<string> {
  let text = '';
  for (const daemon of DAEMONS) {
    const log = await readFile(join(dir, 'log', `${daemon}.log`), 'utf8').catch(() => '');
    const tail = log.split('\n').filter(Boolean).slice(-5);
    if (tail.length > 0) text += `\n${daemon}.log:\n  ${tail.join('\n  ')}`;
  }
  return text;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
