import { readFile } from 'node:fs/promises';
import type { ComputeBackend, JobSpec } from '@trellis/plugin-sdk';
import { createPluginInstance, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import { type SlurmCluster, startSlurmCluster } from '../test/slurm-cluster';
import plugin from './index';

const resources = { cpus: 1, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources });

let cluster: SlurmCluster;
let jwtKey: string;

beforeAll(async () => {
  cluster = await startSlurmCluster();
  jwtKey = await readFile(cluster.jwtKeyPath, 'utf8');
});

afterAll(async () => {
  await cluster?.stop();
});

/** Jobs run as the slurm user, as slurmrestd does: not as the root this spec runs as. */
const backend = (config: object = {}) =>
  createPluginInstance(plugin, { mode: 'rest', restUrl: cluster.restUrl, userName: 'slurm', jwtKey, workDir: cluster.jobsDir, gpuMemoryBytes: { tesla: 2 ** 34 }, pollIntervalMs: 100, ...config });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('compute-slurm, rest mode, on a real slurmrestd', () => {
  let compute: ComputeBackend;

  beforeAll(async () => {
    compute = await backend();
  });

  it('runs jobs as userName, with the job env and the replica variables', async () => {
    const { jobId } = await compute.submit(
      { ...job('whoami', 'sh', '-c', 'echo "$(id -un) $GREETING $TRELLIS_BACKEND_JOB_ID $TRELLIS_REPLICA_INDEX/$WORLD_SIZE"'), env: { GREETING: 'hello' } },
      { idempotencyKey: `rest-whoami-${Date.now()}` },
    );
    expect((await collect(compute.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect((await collect(compute.logs(jobId))).map((l) => l.line)).toEqual([`slurm hello ${jobId} 0/1`]);
  });

  it('binds each replica of a 2-replica job to its own GPU', async () => {
    const spec = { ...job('one-gpu-each', 'sh', '-c', 'echo "${CUDA_VISIBLE_DEVICES-none}"'), replicas: 2, resources: { ...resources, gpus: { count: 1, type: 'tesla' } } };
    const { jobId } = await compute.submit(spec, { idempotencyKey: `rest-gpus-${Date.now()}` });
    expect((await collect(compute.watch(jobId))).pop()).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect((await collect(compute.logs(jobId))).map(({ replica, line }) => ({ replica, line }))).toEqual([
      { replica: 0, line: '0' },
      { replica: 1, line: '1' },
    ]);
  });

  it('reports the nodes and their fake GPUs from slurmrestd', async () => {
    expect((await compute.capacity()).total).toEqual({ cpus: 8, memoryBytes: 16000 * 2 ** 20, gpus: { tesla: { count: 2, memoryBytes: 2 ** 34 } } });
  });

  it("fails a submission to a partition the cluster lacks with Slurm's reason", async () => {
    const elsewhere = await backend({ partition: 'no-such-partition' });
    await expect(elsewhere.submit(job('lost', 'true'), { idempotencyKey: `rest-partition-${Date.now()}` })).rejects.toThrow(/^Slurm refused POST \/job\/submit: Invalid partition name specified$/);
  });

  it('is healthy with the right key, and points at the key when slurmctld refuses the token', async () => {
    await expect(compute.health?.()).resolves.toEqual({ ok: true });
    const wrongKey = await backend({ jwtKey: 'f'.repeat(64) });
    await expect(wrongKey.health?.()).rejects.toThrow(/^Slurm refused GET \/ping: Unspecified error.*check that jwtKey is its jwt_key/);
  });
});

describeComputeConformance('compute-slurm (rest)', () => backend(), {
  succeeding: (line) => job('succeeds', 'echo', line),
  failing: () => job('fails', 'sh', '-c', 'exit 3'),
  running: () => job('runs', 'sleep', '3600'),
  unrunnable: () => ({ name: 'an image', image: 'python:3.12', resources }),
});
