import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, type JobSpec, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';

const resources = { cpus: 1, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources });

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'compute-kubernetes-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const backend = (config: object = {}) => createPluginInstance(plugin, { workDir, ...config }, createTestContext({ dataDir: workDir }));

/** Every status until the job is final. */
async function finalStatus(compute: Awaited<ReturnType<typeof backend>>, jobId: string) {
  let last;
  for await (const status of compute.watch(jobId)) last = status;
  return last;
}

describe('compute-kubernetes', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'compute', id: 'compute-kubernetes' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses an unknown config key and a passEnv entry that is no variable name, naming them', async () => {
    await expect(backend({ workdir: '/tmp' })).rejects.toThrow(PluginConfigError);
    await expect(backend({ workdir: '/tmp' })).rejects.toThrow(/workdir/);
    await expect(backend({ passEnv: ['NOT A NAME'] })).rejects.toThrow(/passEnv/);
  });

  it('runs a job in workDir with its env, its replica index and only the passEnv variables of the host', async () => {
    const compute = await backend();
    const script = 'echo "$GREETING/$TRELLIS_REPLICA_INDEX/$HOME/${TRELLIS_SPEC_NOT_PASSED:-unset}" > "out-$TRELLIS_REPLICA_INDEX"';
    process.env.TRELLIS_SPEC_NOT_PASSED = 'stays with the host';
    try {
      const { jobId } = await compute.submit({ ...job('env', 'sh', '-c', script), env: { GREETING: 'hi' }, replicas: 2 }, { idempotencyKey: 'env-1' });
      expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded' });
    } finally {
      delete process.env.TRELLIS_SPEC_NOT_PASSED;
    }
    expect(await readFile(join(workDir, 'out-1'), 'utf8')).toBe(`hi/1/${process.env.HOME ?? ''}/unset\n`);
    await compute.close?.();
  });

  it('refuses an image, a GPU and a program that is not there, saying why', async () => {
    const compute = await backend();
    await expect(compute.submit({ name: 'img', image: 'python:3.12', resources }, { idempotencyKey: 'img' })).rejects.toThrow(/image python:3.12 cannot run here/);
    await expect(compute.submit({ ...job('gpu', 'true'), resources: { ...resources, gpus: { count: 1 } } }, { idempotencyKey: 'gpu' })).rejects.toThrow(/resources.gpus/);
    const { jobId } = await compute.submit(job('missing', 'no-such-program-compute-kubernetes'), { idempotencyKey: 'missing' });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'failed', exitCode: 127 });
    await compute.close?.();
  });
});

describeComputeConformance('compute-kubernetes', () => backend(), {
  succeeding: (line) => job('succeeds', 'echo', line),
  failing: () => job('fails', 'sh', '-c', 'exit 3'),
  running: () => job('runs', 'sleep', '3600'),
});
