import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ComputeBackend, JobSpec, JobStatus } from '@trellis/plugin-sdk';
import { createPluginInstance, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import { type SlurmCluster, startSlurmCluster } from '../test/slurm-cluster';
import plugin from './index';

const resources = { cpus: 1, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources });
const TESLA_BYTES = 16 * 2 ** 30;

let cluster: SlurmCluster;

beforeAll(async () => {
  cluster = await startSlurmCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

const backend = (config: object = {}) =>
  createPluginInstance(plugin, { mode: 'cli', slurmConf: cluster.slurmConf, workDir: cluster.jobsDir, gpuMemoryBytes: { tesla: TESLA_BYTES }, pollIntervalMs: 100, ...config });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The first status `watch` gives that matches `wanted`. */
async function until(compute: ComputeBackend, jobId: string, wanted: (status: JobStatus) => boolean): Promise<JobStatus> {
  for await (const status of compute.watch(jobId)) if (wanted(status)) return status;
  throw new Error(`job ${jobId} ended without the status waited for`);
}

describe('compute-slurm, cli mode, on a real cluster', () => {
  let compute: ComputeBackend;
  const submitted: string[] = [];
  const submit = async (spec: JobSpec) => {
    const { jobId } = await compute.submit(spec, { idempotencyKey: `cli-extra-${submitted.length}-${Date.now()}` });
    submitted.push(jobId);
    return jobId;
  };

  beforeAll(async () => {
    compute = await backend();
  });

  afterAll(async () => {
    for (const jobId of submitted) await compute.cancel(jobId);
  });

  it('reports the fake GPUs of the node by type, with the configured memory, in total and free', async () => {
    const capacity = await compute.capacity();
    expect(capacity.total).toEqual({ cpus: 8, memoryBytes: 16000 * 2 ** 20, gpus: { tesla: { count: 2, memoryBytes: TESLA_BYTES } } });
    expect(capacity.available?.gpus.tesla?.count).toBeLessThanOrEqual(2);
  });

  it('gives a 2-replica job TRELLIS_REPLICA_INDEX 0 and 1 and WORLD_SIZE 2, each in its own log', async () => {
    const jobId = await submit({ ...job('pair', 'sh', '-c', 'echo "replica $TRELLIS_REPLICA_INDEX of $WORLD_SIZE rank $RANK"'), replicas: 2 });
    expect((await collect(compute.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const lines = await collect(compute.logs(jobId));
    expect(lines.filter((l) => l.stream === 'stdout').map(({ replica, line }) => ({ replica, line }))).toEqual([
      { replica: 0, line: 'replica 0 of 2 rank 0' },
      { replica: 1, line: 'replica 1 of 2 rank 1' },
    ]);
  });

  it("asks Slurm for GPUs per replica as GRES, and a job that does not fit waits with Slurm's reason", async () => {
    const both = await submit({ ...job('both-gpus', 'sleep', '3600'), resources: { ...resources, gpus: { count: 2, type: 'tesla' } } });
    await until(compute, both, (status) => status.state === 'running');
    const { stdout } = await promisify(execFile)('scontrol', ['show', 'job', '-o', both], { env: { ...process.env, SLURM_CONF: cluster.slurmConf } });
    expect(stdout).toMatch(/TresPerTask=gres:gpu:tesla:2/);
    expect((await compute.capacity()).available?.gpus.tesla?.count).toBe(0);

    const waiting = await submit({ ...job('one-more-gpu', 'true'), resources: { ...resources, gpus: { count: 1, minMemoryBytes: TESLA_BYTES } } });
    // Slurm gives the reason at its next scheduling pass; watch yields state changes only, so ask until then.
    let pending = await compute.status(waiting);
    while (pending.state === 'pending' && pending.message === undefined) pending = await compute.status(waiting);
    expect(pending).toMatchObject({ state: 'pending', message: expect.stringMatching(/^(Resources|Priority)$/) });
    await compute.cancel(both);
    expect(await until(compute, waiting, (status) => status.state === 'succeeded')).toMatchObject({ exitCode: 0 });
  });

  it('binds each replica of a 2-replica job to its own GPU: CUDA_VISIBLE_DEVICES names that one only', async () => {
    const jobId = await submit({ ...job('one-gpu-each', 'sh', '-c', 'echo "${CUDA_VISIBLE_DEVICES-none}"'), replicas: 2, resources: { ...resources, gpus: { count: 1, type: 'tesla' } } });
    expect((await collect(compute.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
    // srun's per_task binding gives the tasks the allocation's GPUs in order: the first to task 0.
    expect((await collect(compute.logs(jobId))).map(({ replica, line }) => ({ replica, line }))).toEqual([
      { replica: 0, line: '0' },
      { replica: 1, line: '1' },
    ]);
  });

  it('refuses labels too long for the job comment, a GPU memory no configured type has, and an image, naming the field', async () => {
    const labels = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`label-${i}`, 'v'.repeat(63)]));
    await expect(submit({ ...job('labelled', 'true'), labels })).rejects.toThrow(/^labels: with the idempotency key they take \d+ characters of the job's comment, where Slurm keeps 1024/);
    await expect(submit({ ...job('big', 'true'), resources: { ...resources, gpus: { count: 1, minMemoryBytes: 2 * TESLA_BYTES } } })).rejects.toThrow(/^resources.gpus.minMemoryBytes: /);
    await expect(submit({ name: 'img', image: 'python:3.12', resources })).rejects.toThrow(/^cluster test's Slurm runs commands; it has no container runtime configured \(compute-slurm config containerRuntime\)/);
  });

  describe('with a container runtime', () => {
    let runtime: ComputeBackend;

    // Stands in for Apptainer: says which image it was asked to run, then runs the command in it
    // (exec) or the image's entrypoint (run), so the job's log shows both.
    beforeAll(async () => {
      const fake = join(cluster.jobsDir, 'fake-apptainer');
      await writeFile(fake, ['#!/bin/sh', 'echo "fake-apptainer $1 $2"', 'case "$1" in', '  exec) shift 2; exec "$@" ;;', '  run) echo "the entrypoint of $2" ;;', '  *) exit 64 ;;', 'esac', ''].join('\n'), { mode: 0o755 });
      runtime = await backend({ containerRuntime: { command: [fake, 'exec'], imagePrefix: 'docker://', runCommand: [fake, 'run'] } });
    });

    it("runs a job's command in its image inside each task: the runtime gets the prefixed image, then the command", async () => {
      const { jobId } = await runtime.submit(
        { name: 'in-image', image: 'python:3.12', command: ['sh', '-c', 'echo "replica $TRELLIS_REPLICA_INDEX of $WORLD_SIZE"'], replicas: 2, resources },
        { idempotencyKey: `cli-image-${Date.now()}` },
      );
      submitted.push(jobId);
      expect((await collect(runtime.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
      expect((await collect(runtime.logs(jobId))).map(({ replica, stream, line }) => ({ replica, stream, line }))).toEqual([
        { replica: 0, stream: 'stdout', line: 'fake-apptainer exec docker://python:3.12' },
        { replica: 0, stream: 'stdout', line: 'replica 0 of 2' },
        { replica: 1, stream: 'stdout', line: 'fake-apptainer exec docker://python:3.12' },
        { replica: 1, stream: 'stdout', line: 'replica 1 of 2' },
      ]);
    });

    it("runs the image's own entrypoint with runCommand for a job with an image and no command", async () => {
      const { jobId } = await runtime.submit({ name: 'entrypoint', image: 'ghcr.io/org/app:1', resources }, { idempotencyKey: `cli-entrypoint-${Date.now()}` });
      submitted.push(jobId);
      expect((await collect(runtime.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
      expect((await collect(runtime.logs(jobId))).map((l) => l.line)).toEqual(['fake-apptainer run docker://ghcr.io/org/app:1', 'the entrypoint of docker://ghcr.io/org/app:1']);
    });
  });

  it("fails a submission to a partition the cluster lacks with Slurm's reason", async () => {
    const elsewhere = await backend({ partition: 'no-such-partition' });
    await expect(elsewhere.submit(job('lost', 'true'), { idempotencyKey: `cli-partition-${Date.now()}` })).rejects.toThrow(/^sbatch failed: invalid partition specified: no-such-partition; Batch job submission failed: Invalid partition name specified$/);
  });

  it('is healthy while slurmctld answers', async () => {
    await expect(compute.health?.()).resolves.toEqual({ ok: true });
  });
});

describeComputeConformance('compute-slurm (cli)', () => backend(), {
  succeeding: (line) => job('succeeds', 'echo', line),
  failing: () => job('fails', 'sh', '-c', 'exit 3'),
  running: () => job('runs', 'sleep', '3600'),
  unrunnable: () => ({ name: 'an image', image: 'python:3.12', resources }),
});
