import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeBackend, FINAL_JOB_STATES, type JobLogLine, type JobSpec, type JobStatus } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import { type FakeRay, type FakeRayOptions, startFakeRay } from '../test/fake-ray';
import { GANG_VARIABLE, logLine } from './gang-driver';
import plugin from './index';

const GIB = 2 ** 30;
const resources = { cpus: 1, memoryBytes: GIB };
const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources });

let ray: FakeRay;
let dir: string;

async function startRay(options: FakeRayOptions = {}) {
  ray = await startFakeRay({ resources: { CPU: 4, memory: 8 * GIB }, ...options });
}

const backend = (config: object = {}) => createPluginInstance(plugin, { address: ray.url, pollIntervalMs: 50, ...config }) as Promise<ComputeBackend>;

async function finalStatus(compute: ComputeBackend, jobId: string): Promise<JobStatus> {
  let last: JobStatus | undefined;
  for await (const status of compute.watch(jobId)) last = status;
  if (!last) throw new Error('the watch gave nothing');
  return last;
}

async function lines(compute: ComputeBackend, jobId: string): Promise<JobLogLine[]> {
  const all: JobLogLine[] = [];
  for await (const line of compute.logs(jobId)) all.push(line);
  return all;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compute-ray-'));
});

afterEach(async () => {
  const rejected = [...(ray?.rejected ?? [])];
  await ray?.close();
  await rm(dir, { recursive: true, force: true });
  expect(rejected).toEqual([]);
});

describe('compute-ray submit', () => {
  it("sends the command shell-quoted, the env with Trellis's variables, the replica's resources and the labels as metadata", async () => {
    await startRay({ resources: { CPU: 4, memory: 8 * GIB, GPU: 2, 'accelerator_type:A100': 1 } });
    const compute = await backend({ gpuMemoryBytes: { A100: 80 * GIB } });
    const spec: JobSpec = {
      name: 'train',
      command: ['sh', '-c', `printf '%s|%s|%s\\n' "$1" "$GREETING" "$TRELLIS_REPLICA_INDEX/$WORLD_SIZE/$TRELLIS_BACKEND_JOB_ID"`, 'sh', "it's one word"],
      env: { GREETING: 'hi there' },
      labels: { team: 'vision' },
      resources: { cpus: 1.5, memoryBytes: 2 * GIB + 0.5, gpus: { count: 1, minMemoryBytes: 40 * GIB } },
    };
    const { jobId } = await compute.submit(spec, { idempotencyKey: 'train:1' });

    expect(jobId).toBe('trellis-train:1');
    expect(ray.submitted).toEqual([
      {
        entrypoint: expect.stringContaining(`'it'\\''s one word'`),
        submission_id: 'trellis-train:1',
        runtime_env: {
          env_vars: {
            GREETING: 'hi there',
            TRELLIS_BACKEND_JOB_ID: 'trellis-train:1',
            TRELLIS_REPLICA_INDEX: '0',
            RANK: '0',
            LOCAL_RANK: '0',
            WORLD_SIZE: '1',
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: expect.stringMatching(/^\d+$/),
          },
        },
        metadata: { team: 'vision' },
        entrypoint_num_cpus: 1.5,
        entrypoint_num_gpus: 1,
        entrypoint_memory: 2 * GIB + 1,
        entrypoint_resources: { 'accelerator_type:A100': 0.001 },
      },
    ]);
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect((await lines(compute, jobId)).map((l) => l.line)).toEqual(["it's one word|hi there|0/1/trellis-train:1"]);
  });

  it('returns the first job for a key submitted again, also when two submissions race, and Ray holds one job', async () => {
    await startRay();
    const [one, other] = await Promise.all([backend(), backend()]);
    const spec = job('once', 'sleep', '3600');
    const [a, b] = await Promise.all([one.submit(spec, { idempotencyKey: 'race' }), other.submit(spec, { idempotencyKey: 'race' })]);
    expect(a).toEqual(b);
    expect(await one.submit(spec, { idempotencyKey: 'race' })).toEqual(a);
    expect(ray.submitted).toHaveLength(1);
    await one.cancel(a.jobId);
  });

  it('refuses a spec Ray cannot take with a TypeError naming the field, sending nothing', async () => {
    await startRay();
    const compute = await backend({ gpuMemoryBytes: { T4: 16 * GIB } });
    const refuse = (spec: JobSpec) => compute.submit(spec, { idempotencyKey: 'refused' });
    await expect(refuse({ ...job('x', 'true'), resources: { cpus: 0, memoryBytes: 1 } })).rejects.toThrow(/^resources.cpus/);
    await expect(refuse({ ...job('x', 'true'), labels: { 'no spaces': 'x' } })).rejects.toThrow(/^labels/);
    await expect(refuse({ ...job('x', 'true'), env: { 'NOT-A-NAME': 'x' } })).rejects.toThrow(/^env/);
    await expect(refuse({ ...job('x', 'true'), resources: { ...resources, gpus: { count: 1, minMemoryBytes: 40 * GIB } } })).rejects.toThrow(/^resources.gpus.minMemoryBytes: no accelerator type/);
    expect(ray.submitted).toEqual([]);
  });

  it('keeps a job that does not fit pending with Ray\'s message, and runs it once room frees up', async () => {
    await startRay({ resources: { CPU: 2, memory: 8 * GIB } });
    const compute = await backend();
    const big = { cpus: 2, memoryBytes: GIB };
    const first = await compute.submit({ ...job('first', 'sleep', '3600'), resources: big }, { idempotencyKey: 'first' });
    const second = await compute.submit({ ...job('second', 'true'), resources: big }, { idempotencyKey: 'second' });
    await untilState(compute, first.jobId, 'running');
    expect(await compute.status(second.jobId)).toMatchObject({ state: 'pending', message: expect.stringContaining('waiting for resources') });
    await compute.cancel(first.jobId);
    expect(await finalStatus(compute, second.jobId)).toMatchObject({ state: 'succeeded' });
  });
});

describe('compute-ray list', () => {
  it('lists Trellis jobs by their labels (Ray metadata), not jobs others submitted with the same metadata', async () => {
    await startRay();
    const compute = await backend();
    const ours = await compute.submit({ ...job('ours', 'true'), labels: { team: 'vision', role: 'train' } }, { idempotencyKey: 'ours' });
    await compute.submit({ ...job('theirs', 'true'), labels: { team: 'speech' } }, { idempotencyKey: 'speech' });
    const direct = await fetch(`${ray.url}/api/jobs/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ entrypoint: 'true', metadata: { team: 'vision' } }) });
    expect(direct.status).toBe(200);

    const listed = await compute.list({ labels: { team: 'vision' } });
    expect(listed).toEqual([expect.objectContaining({ jobId: ours.jobId, labels: { team: 'vision', role: 'train' } })]);
    expect(await compute.list({ labels: { team: 'vision', role: 'eval' } })).toEqual([]);
  });
});

describe('compute-ray logs', () => {
  it('follows a job, giving each line once as it comes, a last line without a newline at the end', async () => {
    await startRay();
    const compute = await backend();
    const go = join(dir, 'go');
    const { jobId } = await compute.submit(job('follow', 'sh', '-c', `echo first; while [ ! -e ${go} ]; do sleep 0.02; done; echo second; printf 'no newline'`), { idempotencyKey: 'follow' });
    const seen: string[] = [];
    for await (const line of compute.logs(jobId, { follow: true })) {
      seen.push(line.line);
      expect(line).toMatchObject({ stream: 'stdout', replica: 0 });
      if (line.line === 'first') await writeFile(go, '');
    }
    expect(seen).toEqual(['first', 'second', 'no newline']);
    expect((await compute.status(jobId)).state).toBe('succeeded');
  });

  it('ends a followed log without an error when its signal aborts', async () => {
    await startRay();
    const compute = await backend();
    const { jobId } = await compute.submit(job('forever', 'sh', '-c', 'echo started; exec sleep 3600'), { idempotencyKey: 'forever' });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const line of compute.logs(jobId, { follow: true, signal: controller.signal })) {
      seen.push(line.line);
      controller.abort();
    }
    expect(seen).toEqual(['started']);
    await compute.cancel(jobId);
  });
});

describe('compute-ray stop', () => {
  it('stops a running job through Ray: its process ends and the job is cancelled', async () => {
    await startRay();
    const compute = await backend();
    const pidFile = join(dir, 'pid');
    const { jobId } = await compute.submit(job('stoppable', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 3600`), { idempotencyKey: 'stop' });
    await untilState(compute, jobId, 'running');
    while (!existsSync(pidFile) || !(await readFile(pidFile, 'utf8')).endsWith('\n')) await new Promise((resolve) => setImmediate(resolve));
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(running(pid)).toBe(true);
    await compute.cancel(jobId);
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'cancelled', message: 'Job was intentionally stopped.', exitCode: 143 });
    expect(running(pid)).toBe(false);
    expect(ray.requests.filter((request) => request === `POST /api/jobs/${jobId}/stop`)).toHaveLength(1);
    await compute.cancel(jobId);
    expect(ray.requests.filter((request) => request === `POST /api/jobs/${jobId}/stop`)).toHaveLength(1);
  });

  it('stops a job that is still pending: it never runs', async () => {
    await startRay({ resources: { CPU: 1, memory: 8 * GIB } });
    const compute = await backend();
    const marker = join(dir, 'ran');
    const { jobId } = await compute.submit({ ...job('never', 'touch', marker), resources: { cpus: 2, memoryBytes: GIB } }, { idempotencyKey: 'never' });
    expect((await compute.status(jobId)).state).toBe('pending');
    await compute.cancel(jobId);
    expect((await compute.status(jobId)).state).toBe('cancelled');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('compute-ray capacity', () => {
  it("adds up the alive nodes' resources from the state API, GPUs by accelerator type with the configured memory", async () => {
    await startRay({ resources: { CPU: 16, memory: 64 * GIB, GPU: 4, 'accelerator_type:A100': 1 } });
    const compute = await backend({ gpuMemoryBytes: { A100: 80 * GIB } });
    expect(await compute.capacity()).toEqual({ total: { cpus: 16, memoryBytes: 64 * GIB, gpus: { A100: { count: 4, memoryBytes: 80 * GIB } } } });
  });

  it('names the accelerator type gpuMemoryBytes lacks', async () => {
    await startRay({ resources: { CPU: 16, memory: 64 * GIB, GPU: 4, 'accelerator_type:A100': 1 } });
    await expect((await backend()).capacity()).rejects.toThrow(/gpuMemoryBytes.A100/);
  });

  it('takes the config\'s capacity without asking Ray, and says to give one where Ray serves no node list', async () => {
    await startRay({ servesNodes: false });
    const capacity = { cpus: 32, memoryBytes: 128 * GIB, gpus: { T4: { count: 2, memoryBytes: 16 * GIB } } };
    expect(await (await backend({ capacity })).capacity()).toEqual({ total: capacity });
    expect(ray.requests).not.toContain('GET /api/v0/nodes');
    await expect((await backend()).capacity()).rejects.toThrow(/give the cluster's resources in the config's capacity/);
    expect(ray.rejected).toEqual([expect.stringContaining('GET /api/v0/nodes')]);
    ray.rejected.length = 0;
  });
});

describe('compute-ray images', () => {
  it('cannot run an image unless allowImages, and then sends it as runtime_env.image_uri with the command', async () => {
    await startRay();
    const image: JobSpec = { name: 'img', image: 'rayproject/ray:2.40.0', command: ['python', '-V'], resources };
    const plain = (await backend()) as ComputeBackend & { whyCannotRun(job: JobSpec): string | undefined };
    expect(plain.whyCannotRun(image)).toMatch(/does not run container images \(its config's allowImages is false\)/);
    expect(plain.whyCannotRun(job('cmd', 'true'))).toBeUndefined();

    const allowing = (await backend({ allowImages: true })) as typeof plain;
    expect(allowing.whyCannotRun(image)).toBeUndefined();
    expect(allowing.whyCannotRun({ name: 'img', image: 'rayproject/ray:2.40.0', resources })).toMatch(/give a command for image rayproject\/ray:2.40.0/);
    await expect(allowing.submit({ name: 'img', image: 'rayproject/ray:2.40.0', resources }, { idempotencyKey: 'no-command' })).rejects.toThrow(TypeError);
    await allowing.submit(image, { idempotencyKey: 'image' });
    expect(ray.submitted).toEqual([expect.objectContaining({ entrypoint: "'python' '-V'", runtime_env: expect.objectContaining({ image_uri: 'rayproject/ray:2.40.0' }) })]);
  });
});

describe('compute-ray auth', () => {
  it('sends authToken as a bearer token, and says to check it when Ray refuses', async () => {
    await startRay({ authToken: 'sesame' });
    const compute = await backend({ authToken: 'sesame' });
    const { jobId } = await compute.submit(job('auth', 'true'), { idempotencyKey: 'auth' });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded' });
    await expect((await backend()).status(jobId)).rejects.toThrow(/HTTP 401\): check authToken/);
    expect(ray.rejected).toHaveLength(1);
    ray.rejected.length = 0;
  });
});

describe('compute-ray replicas', () => {
  it('runs several replicas as one Ray job whose driver reserves them together, asking nothing for itself', async () => {
    await startRay();
    const compute = await backend({ python: '/usr/bin/python3' });
    await compute.submit({ ...job('gang', 'train.sh'), replicas: 3, env: { A: 'b' }, resources: { cpus: 2, memoryBytes: GIB, gpus: { count: 1, type: 'H100' } } }, { idempotencyKey: 'gang' });
    const [sent] = ray.submitted as [{ entrypoint: string; runtime_env: { env_vars: Record<string, string> } }];
    expect(sent).toMatchObject({ entrypoint_num_cpus: 0, entrypoint_num_gpus: 0, entrypoint_memory: 0, metadata: {} });
    expect(sent.entrypoint).toMatch(/^'\/usr\/bin\/python3' -c '/);
    expect(sent.runtime_env.env_vars).toMatchObject({ A: 'b', RAY_DEDUP_LOGS: '0', TRELLIS_BACKEND_JOB_ID: 'trellis-gang' });
    expect(JSON.parse(sent.runtime_env.env_vars[GANG_VARIABLE])).toEqual({
      replicas: 3,
      bundle: { CPU: 2, GPU: 1, memory: GIB, 'accelerator_type:H100': 0.001 },
      command: ['train.sh'],
      masterPort: expect.any(Number),
    });
  });

  it("runs each replica with its rank variables, and gives each line as its replica's, stdout and stderr apart", async () => {
    await startRay();
    const compute = await backend();
    const report = 'echo "$TRELLIS_REPLICA_INDEX $RANK $LOCAL_RANK $WORLD_SIZE $MASTER_ADDR $TRELLIS_BACKEND_JOB_ID ${TRELLIS_RAY_GANG:-unset}"; echo "to stderr $RANK" >&2';
    const { jobId } = await compute.submit({ ...job('gang', 'sh', '-c', report), replicas: 2 }, { idempotencyKey: 'gang' });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const seen = (await lines(compute, jobId)).map(({ replica, stream, line }) => `${replica} ${stream}: ${line}`).sort();
    expect(seen).toEqual([
      '0 stderr: to stderr 0',
      '0 stdout: 0 0 0 2 127.0.0.1 trellis-gang unset',
      '1 stderr: to stderr 1',
      '1 stdout: 1 1 1 2 127.0.0.1 trellis-gang unset',
    ]);
  });

  it("fails with the first failing replica's exit code, and the others end with the driver", async () => {
    await startRay();
    const compute = await backend();
    const pidFile = join(dir, 'pid-0');
    const script = `if [ "$RANK" = 1 ]; then while [ ! -e ${pidFile} ]; do sleep 0.02; done; exit 3; fi; echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 3600`;
    const { jobId } = await compute.submit({ ...job('gang', 'sh', '-c', script), replicas: 2 }, { idempotencyKey: 'gang-fails' });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'failed', exitCode: 3 });
    const pid = Number(await readFile(pidFile, 'utf8'));
    while (running(pid)) await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('compute-ray log lines', () => {
  it("takes a replica's line out of Ray's coloured prefix, and gives the driver's own as replica 0's stderr", () => {
    const time = new Date();
    expect(logLine('\x1b[36m(replica pid=4242, ip=10.0.0.7)\x1b[0m [trellis-replica 3 err] CUDA out of memory', true, time)).toEqual({ time, stream: 'stderr', replica: 3, line: 'CUDA out of memory' });
    expect(logLine('(replica pid=4242, ip=10.0.0.7) [trellis-replica 12 out] ', true, time)).toEqual({ time, stream: 'stdout', replica: 12, line: '' });
    expect(logLine('2026-12-05 INFO worker.py:1 -- Connecting to existing Ray cluster', true, time)).toEqual({ time, stream: 'stderr', replica: 0, line: '2026-12-05 INFO worker.py:1 -- Connecting to existing Ray cluster' });
    expect(logLine('[trellis-replica 1 out] a single replica writes what it likes', false, time)).toMatchObject({ stream: 'stdout', replica: 0, line: '[trellis-replica 1 out] a single replica writes what it likes' });
  });
});

/** Whether process `pid` runs (a zombie, ended but not yet reaped by init, does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Watches `jobId` until it is in `state` (or final, which fails the expectation). */
async function untilState(compute: ComputeBackend, jobId: string, state: JobStatus['state']): Promise<void> {
  for await (const status of compute.watch(jobId)) {
    if (status.state === state) return;
    if (FINAL_JOB_STATES.includes(status.state)) break;
  }
  throw new Error(`job ${jobId} ended without being ${state}`);
}
