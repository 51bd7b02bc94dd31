import { TestKeySet } from '@trellis/platform/testing';
import { createGrpcClient, type GrpcClient } from '@trellis/platform';
import { JobServiceDesc, JobState, QueueServiceDesc } from '@trellis/proto';
import { closedPort, createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

/**
 * The compute service as its own process (apps/compute, distributed: PostgreSQL, NATS, jobs as local
 * processes with compute-local), SIGKILLed and started again: once between the backend's accepting
 * an attempt and the service's record of it (the failpoint `compute.after-submit`), and once while a
 * job runs. Each job appends one line to a file of its own; after the restart each job has
 * succeeded with one attempt and its file holds one line: nothing ran twice, nothing was forgotten.
 */
describe('compute restarted after a SIGKILL (distributed, compute-local)', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let keys: TestKeySet;
  let dir: string;
  let port: number;
  let unreachable: string;
  let child: ChildProcess | undefined;
  let output = '';
  let jobs: GrpcClient<(typeof JobServiceDesc)['method']>;
  let queues: GrpcClient<(typeof QueueServiceDesc)['method']>;

  /** Starts apps/compute and waits until it answers calls. */
  const start = async (env: Record<string, string> = {}) => {
    const started = spawn(process.execPath, ['tools/bench/run.cjs', 'apps/compute/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...nats.env,
        TRELLIS_MODE: 'distributed',
        TRELLIS_DATA_DIR: join(dir, 'data'),
        TRELLIS_OPS_PORT: '0',
        TRELLIS_LOG_LEVEL: 'warn',
        TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'),
        TRELLIS_COMPUTE_PORT: String(port),
        TRELLIS_COMPUTE_DATABASE_URL: database.config.url,
        // No job here names an experiment or a dataset: the service never calls governance, tracking or data, nor uses its credential.
        TRELLIS_COMPUTE_CREDENTIAL: 'env:SPEC_UNUSED_KEY',
        SPEC_UNUSED_KEY: `trellis_0000000000000000_${'u'.repeat(43)}`,
        TRELLIS_GOVERNANCE_ADDRESS: unreachable,
        TRELLIS_TRACKING_ADDRESS: unreachable,
        TRELLIS_DATA_ADDRESS: unreachable,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    await eventually(() => jobs.listPriorityClasses({}), { timeoutMs: 60_000, intervalMs: 200 });
    return started;
  };

  const submitAppending = async (name: string, file: string, command: string) => {
    const { job } = await jobs.submitJob({
      projectId: 'p1',
      queue: 'local',
      spec: { name, command: ['sh', '-c', command], env: { OUT: file }, resources: { cpuMillis: 100n, memoryBytes: 64n * 1024n * 1024n } },
    });
    return job!.id;
  };
  const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const jobOf = async (jobId: string) => (await jobs.getJob({ jobId })).job!;

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = testNatsConfig();
    keys = await TestKeySet.create();
    dir = mkdtempSync(join(tmpdir(), 'trellis-compute-restart-'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.jwks));
    port = await closedPort();
    unreachable = `127.0.0.1:${await closedPort()}`;
    const address = `127.0.0.1:${port}`;
    jobs = createGrpcClient(JobServiceDesc, address, { token: await keys.mint({ sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }], ttlSeconds: 3600 }) });
    queues = createGrpcClient(QueueServiceDesc, address, { token: await keys.mint({ sub: 'ada', orgAdmin: true, ttlSeconds: 3600 }) });
  }, 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    jobs?.close();
    queues?.close();
    await nats?.cleanup();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('runs a job submitted just before the crash once, recording the attempt the backend already had', async () => {
    const doomed = await start({ TRELLIS_FAILPOINTS: 'compute.after-submit' });
    await queues.createQueue({ queue: { name: 'local', cluster: 'local' } });
    await queues.setGrant({ queue: 'local', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 1000n }, { resource: 'memory', nominal: 1024n ** 3n }] });
    const file = join(dir, 'once.txt');
    const jobId = await submitAppending('once', file, 'echo ran >> "$OUT"');
    const [, signal] = await once(doomed, 'exit');
    // Only the failpoint kills the process: the backend took the attempt, the database has it SUBMITTING without the backend's id.
    expect(signal).toBe('SIGKILL');

    await start();
    await eventually(async () => expect((await jobOf(jobId)).state).toBe(JobState.SUCCEEDED), { timeoutMs: 30_000 });
    const done = await jobOf(jobId);
    expect(done.attempts.map(({ number, backendJobId }) => ({ number, recorded: backendJobId !== '' }))).toEqual([{ number: 1, recorded: true }]);
    expect(linesOf(file)).toEqual(['ran']);
  }, 120_000);

  it('resumes watching a job that ran while the service was killed, and runs nothing twice', async () => {
    const file = join(dir, 'running.txt');
    const marker = join(dir, 'started.txt');
    // The job says it started, then waits for the spec's go (a file) so it is still running at the kill.
    const go = join(dir, 'go');
    const jobId = await submitAppending('running', file, `echo started > "${marker}"; while [ ! -e "${go}" ]; do sleep 0.05; done; echo ran >> "$OUT"`);
    await eventually(async () => expect((await jobOf(jobId)).state).toBe(JobState.RUNNING), { timeoutMs: 30_000 });
    await eventually(() => expect(linesOf(marker)).toEqual(['started']));
    const killed = child!;
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    writeFileSync(go, '');

    await start();
    await eventually(async () => expect((await jobOf(jobId)).state).toBe(JobState.SUCCEEDED), { timeoutMs: 30_000 });
    expect((await jobOf(jobId)).attempts).toHaveLength(1);
    expect(linesOf(file)).toEqual(['ran']);
  }, 120_000);
});
