import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';
import { job } from '../test/jobs';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'compute-local-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const backend = (config: object = {}) => createPluginInstance(plugin, { workDir, nvidiaSmi: 'no-such-nvidia-smi', ...config }, createTestContext({ dataDir: workDir }));

describe('compute-local', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'compute', id: 'compute-local' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses an unknown config key, a passEnv entry that is no variable name and a negative grace, naming them', async () => {
    await expect(backend({ workdir: '/tmp' })).rejects.toThrow(PluginConfigError);
    await expect(backend({ workdir: '/tmp' })).rejects.toThrow(/workdir/);
    await expect(backend({ passEnv: ['NOT A NAME'] })).rejects.toThrow(/passEnv/);
    await expect(backend({ killGraceMs: -1 })).rejects.toThrow(/killGraceMs/);
  });

  it('keeps jobs under the data directory when workDir is left out', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'compute-local-data-'));
    const compute = await createPluginInstance(plugin, { nvidiaSmi: 'no-such-nvidia-smi' }, createTestContext({ dataDir }));
    const { jobId } = await compute.submit(job('where', 'pwd'), { idempotencyKey: 'where' });
    for await (const status of compute.watch(jobId)) expect(status.state).not.toBe('failed');
    const lines = [];
    for await (const line of compute.logs(jobId)) lines.push(line.line);
    expect(lines).toEqual([join(dataDir, 'jobs', jobId, 'work')]);
    await compute.close?.();
    await rm(dataDir, { recursive: true, force: true });
  });
});

// A directory per backend: the suite expects a backend to know only the jobs of its own test.
describeComputeConformance('compute-local', async () => backend({ workDir: await mkdtemp(join(workDir, 'conformance-')) }), {
  succeeding: (line) => job('succeeds', 'echo', line),
  failing: () => job('fails', 'sh', '-c', 'exit 3'),
  running: () => job('runs', 'sleep', '3600'),
  unrunnable: () => ({ name: 'an image', image: 'python:3.12', resources: { cpus: 1, memoryBytes: 2 ** 26 } }),
});
