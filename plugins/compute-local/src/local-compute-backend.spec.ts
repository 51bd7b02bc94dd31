import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ComputeBackend, JobSpec } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext } from '@trellis/plugin-sdk/testing';
import { job } from '../test/jobs';
import { gpuType, parseGpus } from './gpus';
import plugin from './index';
import { JobFiles } from './job-files';

const REPO = resolve(__dirname, '../../..');
const GPU_0 = 'GPU-11111111-aaaa-0000-0000-000000000000';
const GPU_1 = 'GPU-22222222-bbbb-0000-0000-000000000000';
const MiB = 2 ** 20;

let dir: string;
let open: ComputeBackend[];
let jobs: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compute-local-spec-'));
  open = [];
  jobs = [];
});

afterEach(async () => {
  const last = open[open.length - 1];
  for (const jobId of jobs) await last?.cancel(jobId);
  for (const compute of open) await compute.close?.();
  await rm(dir, { recursive: true, force: true });
});

async function instance(config: object = {}): Promise<ComputeBackend> {
  const compute = await createPluginInstance(plugin, { workDir: join(dir, 'work'), nvidiaSmi: 'no-such-nvidia-smi', killGraceMs: 200, ...config }, createTestContext({ dataDir: dir }));
  open.push(compute);
  return compute;
}

async function submit(compute: ComputeBackend, spec: JobSpec, idempotencyKey = `key-${jobs.length}`): Promise<string> {
  const { jobId } = await compute.submit(spec, { idempotencyKey });
  jobs.push(jobId);
  return jobId;
}

async function finalOf(compute: ComputeBackend, jobId: string) {
  let last;
  for await (const status of compute.watch(jobId)) last = status;
  return last;
}

/** Follows the job's output until a line matches `pattern`; its match. */
async function waitForLine(compute: ComputeBackend, jobId: string, pattern: RegExp, replica = 0): Promise<RegExpExecArray> {
  for await (const { line, replica: from } of compute.logs(jobId, { follow: true })) {
    const match = from === replica ? pattern.exec(line) : null;
    if (match) return match;
  }
  throw new Error(`job ${jobId} ended without a line matching ${pattern}`);
}

async function lines(compute: ComputeBackend, jobId: string): Promise<string[]> {
  const all = [];
  for await (const { line, stream, replica } of compute.logs(jobId)) all.push(`${replica} ${stream}: ${line}`);
  return all;
}

/** Whether `pid` is a live process (a zombie is not). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

describe('compute-local process groups', () => {
  it('kills the whole tree on cancel, a grandchild that ignores SIGTERM included', async () => {
    const compute = await instance();
    const script = `sh -c 'trap "" TERM; echo "grandchild $$"; exec sleep 3600' & wait`;
    const jobId = await submit(compute, job('tree', 'sh', '-c', script));
    const grandchild = Number((await waitForLine(compute, jobId, /^grandchild (\d+)$/))[1]);
    expect(await isRunning(grandchild)).toBe(true);

    await compute.cancel(jobId);

    expect(await isRunning(grandchild)).toBe(false);
    expect(await compute.status(jobId)).toMatchObject({ state: 'cancelled' });
  });

  it('fails a job when one replica fails, with its exit code, and ends the other replicas', async () => {
    const compute = await instance();
    const release = fifo('release');
    const script = 'if [ "$RANK" = 1 ]; then read x < "$RELEASE"; exit 5; fi; echo "replica $$"; exec sleep 3600';
    const jobId = await submit(compute, { ...job('gang', 'sh', '-c', script), replicas: 2, env: { RELEASE: release } });
    const other = Number((await waitForLine(compute, jobId, /^replica (\d+)$/))[1]);

    await writeFile(release, 'go\n');

    expect(await finalOf(compute, jobId)).toMatchObject({ state: 'failed', exitCode: 5, message: 'replica 1 exited with code 5' });
    await compute.cancel(jobId); // a final job: changes nothing, and returns once its processes are gone
    expect(await isRunning(other)).toBe(false);
  });

  it("gives each replica its rank, the world size, one master address and port and the plugin's job id, leaving the caller's TRELLIS_JOB_ID as given", async () => {
    const compute = await instance();
    const script = 'echo "$TRELLIS_REPLICA_INDEX $RANK $LOCAL_RANK $WORLD_SIZE $TRELLIS_JOB_ID $TRELLIS_BACKEND_JOB_ID $MASTER_ADDR $MASTER_PORT"';
    const jobId = await submit(compute, { ...job('ranks', 'sh', '-c', script), replicas: 2, env: { TRELLIS_JOB_ID: 'the-service-job' } });
    expect(await finalOf(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });

    const [zero, one] = await lines(compute, jobId);
    const port = /127\.0\.0\.1 (\d+)$/.exec(zero ?? '')?.[1];
    expect(Number(port)).toBeGreaterThan(0);
    expect([zero, one]).toEqual([
      `0 stdout: 0 0 0 2 the-service-job ${jobId} 127.0.0.1 ${port}`,
      `1 stdout: 1 1 1 2 the-service-job ${jobId} 127.0.0.1 ${port}`,
    ]);
  });

  it('keeps stdout and stderr apart, and a last line without a newline', async () => {
    const compute = await instance();
    const jobId = await submit(compute, job('streams', 'sh', '-c', 'echo out; echo err >&2; printf tail'));
    await finalOf(compute, jobId);
    expect(await lines(compute, jobId)).toEqual(['0 stdout: out', '0 stdout: tail', '0 stderr: err']);
  });

  it('refuses an image, an env name that is no variable, and more CPUs than the host has, naming the field', async () => {
    const compute = await instance();
    const resources = { cpus: 1, memoryBytes: MiB };
    await expect(compute.submit({ name: 'img', image: 'python:3.12', resources }, { idempotencyKey: 'img' })).rejects.toThrow(/^compute-local runs commands, not container images: job "img" names image python:3.12; place it on a cluster that runs images .*, or drop the image/);
    await expect(compute.submit({ ...job('env', 'true'), env: { 'NOT A NAME': 'x' } }, { idempotencyKey: 'env' })).rejects.toThrow(/env "NOT A NAME"/);
    await expect(compute.submit({ ...job('cpus', 'true'), resources: { cpus: 100_000, memoryBytes: MiB } }, { idempotencyKey: 'cpus' })).rejects.toThrow(/resources.cpus/);
    await expect(compute.status(JobFiles.jobIdOf('img'))).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(compute.status('../../etc')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('fails a job whose program is not there with exit code 127, saying so on stderr', async () => {
    const compute = await instance();
    const jobId = await submit(compute, job('missing', 'no-such-program-compute-local'));
    expect(await finalOf(compute, jobId)).toMatchObject({ state: 'failed', exitCode: 127 });
    expect((await lines(compute, jobId)).join('\n')).toMatch(/0 stderr: .*no-such-program-compute-local: not found/);
  });
});

describe('compute-local watch', () => {
  it('ends when its signal aborts while the caller holds the status of a job that keeps running', async () => {
    const compute = await instance();
    const jobId = await submit(compute, job('runs', 'sh', '-c', 'echo started; sleep 3600'));
    await waitForLine(compute, jobId, /started/);
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const { state } of compute.watch(jobId, { signal: controller.signal })) {
      seen.push(state);
      controller.abort();
    }
    expect(seen).toEqual(['running']);
  });

  it('ends a watch of a running job when the instance closes', async () => {
    const compute = await instance();
    const jobId = await submit(compute, job('runs', 'sh', '-c', 'echo started; sleep 3600'));
    await waitForLine(compute, jobId, /started/);
    const watch = compute.watch(jobId)[Symbol.asyncIterator]();
    expect((await watch.next()).value).toMatchObject({ jobId, state: 'running' });
    const ended = watch.next();
    await compute.close?.();
    expect(await ended).toEqual({ done: true, value: undefined });
  });
});

describe('compute-local after a restart', () => {
  /** Starts a host process that submits `spec` with `key` and prints the job id; resolves with both. */
  async function crashingHost(spec: JobSpec, key: string): Promise<{ host: ChildProcess; jobId: string }> {
    const args = [join(REPO, 'tools/bench/run.cjs'), join(REPO, 'plugins/compute-local/test/crash-host.ts'), join(dir, 'work'), JSON.stringify(spec), key];
    const host = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<never>((_, reject) => host.once('exit', (code) => reject(new Error(`the host exited with ${code} before it submitted`))));
    const first = new Promise<string>((ok) => createInterface({ input: host.stdout! }).once('line', ok));
    const { jobId } = JSON.parse(await Promise.race([first, exited])) as { jobId: string };
    jobs.push(jobId);
    return { host, jobId };
  }

  async function kill(host: ChildProcess): Promise<void> {
    const exited = new Promise((ok) => host.once('exit', ok));
    host.kill('SIGKILL');
    await exited;
  }

  it("finds, watches to the end and reads the job of a host killed mid-job, and starts it once for a resubmit with the job's key", async () => {
    const release = fifo('release');
    const runs = join(dir, 'runs');
    const script = 'echo started; echo run >> "$RUNS"; read line < "$RELEASE"; echo "got $line"; exit 4';
    const spec = { ...job('survivor', 'sh', '-c', script), env: { RELEASE: release, RUNS: runs }, labels: { case: 'restart' } };
    const { host, jobId } = await crashingHost(spec, 'survivor-key');
    await kill(host);

    const compute = await instance();
    expect(await compute.submit(spec, { idempotencyKey: 'survivor-key' })).toEqual({ jobId });
    expect(await compute.list({ labels: { case: 'restart' } })).toEqual([expect.objectContaining({ jobId, labels: { case: 'restart' } })]);
    await waitForLine(compute, jobId, /^started$/);
    expect((await compute.status(jobId)).state).toBe('running');

    const final = finalOf(compute, jobId);
    await writeFile(release, 'hello\n');
    expect(await final).toMatchObject({ jobId, state: 'failed', exitCode: 4 });
    expect(await lines(compute, jobId)).toEqual(['0 stdout: started', '0 stdout: got hello']);
    expect(await readFile(runs, 'utf8')).toBe('run\n');
  });

  it('cancels, from a new instance, the job of a host that was killed', async () => {
    const { host, jobId } = await crashingHost(job('orphan', 'sh', '-c', 'echo "pid $$"; exec sleep 3600'), 'orphan-key');
    await kill(host);
    const compute = await instance();
    const pid = Number((await waitForLine(compute, jobId, /^pid (\d+)$/))[1]);

    await compute.cancel(jobId);

    expect(await isRunning(pid)).toBe(false);
    expect(await compute.status(jobId)).toMatchObject({ state: 'cancelled' });
  });

  it('starts, once, a job an instance reserved but died before starting', async () => {
    const files = new JobFiles(join(dir, 'work'));
    await files.open();
    const jobId = JobFiles.jobIdOf('reserved-key');
    const record = { jobId, idempotencyKey: 'reserved-key', name: 'reserved', labels: {}, command: ['echo', 'ran'], env: {}, replicas: 1, resources: { cpus: 1, memoryBytes: MiB }, masterPort: 29500, createdAt: new Date().toISOString() };
    expect(files.reserve(record, undefined)).toBe(true);
    files.close();
    jobs.push(jobId);

    const compute = await instance();
    expect(await compute.submit(job('reserved', 'echo', 'again'), { idempotencyKey: 'reserved-key' })).toEqual({ jobId });
    expect(await finalOf(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(await lines(compute, jobId)).toEqual(['0 stdout: ran']);
  });

  it('runs a job whose staging directory made ahead is gone, as when another instance removed it', async () => {
    const compute = await instance();
    const tmp = join(dir, 'work', 'tmp');
    for (const name of await readdir(tmp)) await rm(join(tmp, name), { recursive: true });

    const jobId = await submit(compute, job('fresh', 'echo', 'ran'));

    expect(await finalOf(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(await lines(compute, jobId)).toEqual(['0 stdout: ran']);
  });
});

describe('compute-local GPUs', () => {
  const h200 = { count: 2, memoryBytes: 143_771 * MiB };
  const gpuJob = (name: string, count: number): JobSpec => ({ ...job(name, 'sh', '-c', 'echo "[$CUDA_VISIBLE_DEVICES]"; exec sleep 3600'), resources: { cpus: 1, memoryBytes: MiB, gpus: { count } } });
  let nvidiaSmi: string;

  beforeEach(async () => {
    nvidiaSmi = join(dir, 'nvidia-smi');
    await writeFile(nvidiaSmi, `#!/bin/sh\nprintf '0, NVIDIA H200, ${GPU_0}, 143771\\n1, NVIDIA H200, ${GPU_1}, 143771\\n'\n`);
    await chmod(nvidiaSmi, 0o755);
  });

  it('names GPU types from nvidia-smi in lowercase with dashes, always under nvidia-', () => {
    expect(gpuType('NVIDIA H200')).toBe('nvidia-h200');
    expect(gpuType('NVIDIA A100-SXM4-80GB')).toBe('nvidia-a100-sxm4-80gb');
    expect(gpuType('Tesla V100-SXM2-16GB')).toBe('nvidia-tesla-v100-sxm2-16gb');
    expect(parseGpus(`0, NVIDIA H200, ${GPU_0}, 143771\nNo devices were found\n`)).toEqual([{ index: 0, uuid: GPU_0, type: 'nvidia-h200', memoryBytes: 143_771 * MiB }]);
  });

  it('reports the GPUs nvidia-smi lists, and gives two 1-GPU jobs different ones, a 0-GPU job none', async () => {
    const compute = await instance({ nvidiaSmi });
    expect((await compute.capacity()).total.gpus).toEqual({ 'nvidia-h200': h200 });

    const a = await submit(compute, gpuJob('a', 1));
    const b = await submit(compute, gpuJob('b', 1));
    const none = await submit(compute, gpuJob('none', 0));
    const seen = [(await waitForLine(compute, a, /^\[(.*)\]$/))[1], (await waitForLine(compute, b, /^\[(.*)\]$/))[1]];
    expect(seen.sort()).toEqual([GPU_0, GPU_1]);
    expect((await waitForLine(compute, none, /^\[(.*)\]$/))[1]).toBe('');
    expect((await compute.capacity()).available?.gpus).toEqual({ 'nvidia-h200': { ...h200, count: 0 } });
  });

  it('keeps a job waiting while its GPUs are busy, and starts it on the GPU a cancelled job frees', async () => {
    const compute = await instance({ nvidiaSmi });
    const a = await submit(compute, gpuJob('a', 1));
    await submit(compute, gpuJob('b', 1));
    const waiting = await submit(compute, gpuJob('waits', 1));
    expect(await compute.status(waiting)).toMatchObject({ state: 'pending', message: expect.stringMatching(/^waiting for 1 GPU\(s\) for each of 1 replica\(s\): 0 free now/) });
    const freed = (await waitForLine(compute, a, /^\[(.*)\]$/))[1];

    await compute.cancel(a);

    expect((await waitForLine(compute, waiting, /^\[(.*)\]$/))[1]).toBe(freed);
  });

  it('tells a watcher the moment a job that waited for a GPU runs, not at the next periodic check', async () => {
    const compute = await instance({ nvidiaSmi, pollIntervalMs: 60_000 });
    const a = await submit(compute, gpuJob('a', 1));
    await submit(compute, gpuJob('b', 1));
    const waiting = await submit(compute, gpuJob('waits', 1));
    const states = compute.watch(waiting)[Symbol.asyncIterator]();
    expect((await states.next()).value).toMatchObject({ state: 'pending' });
    const next = states.next();

    await compute.cancel(a);

    expect((await next).value).toMatchObject({ state: 'running' });
    await states.return?.();
  });

  it('refuses a job that asks for more GPUs than the host has, or a type it has not', async () => {
    const compute = await instance({ nvidiaSmi });
    await expect(compute.submit({ ...gpuJob('many', 2), replicas: 2 }, { idempotencyKey: 'many' })).rejects.toThrow(/asks for 4 GPUs in all .* this host has 2/);
    await expect(compute.submit({ ...gpuJob('type', 1), resources: { cpus: 1, memoryBytes: MiB, gpus: { count: 1, type: 'nvidia-h100' } } }, { idempotencyKey: 'type' })).rejects.toThrow(
      /resources.gpus.type "nvidia-h100" is not a GPU type of this host \(nvidia-h200\)/,
    );
  });

  it('keeps the GPUs of running jobs taken across a restart', async () => {
    const first = await instance({ nvidiaSmi });
    const a = await submit(first, gpuJob('a', 1));
    const taken = (await waitForLine(first, a, /^\[(.*)\]$/))[1];
    await first.close?.();

    const second = await instance({ nvidiaSmi });
    expect((await second.capacity()).available?.gpus).toEqual({ 'nvidia-h200': { ...h200, count: 1 } });
    const b = await submit(second, gpuJob('b', 1));
    expect((await waitForLine(second, b, /^\[(.*)\]$/))[1]).toBe(taken === GPU_0 ? GPU_1 : GPU_0);
  });
});
