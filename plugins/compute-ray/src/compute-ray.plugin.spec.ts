import { checkManifest, isSecretSchema, type JobSpec, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import { type FakeRay, startFakeRay } from '../test/fake-ray';
import packageJson from '../package.json';
import { computeRayConfig } from './compute-ray.plugin';
import plugin from './index';

const resources = { cpus: 1, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources });

describe('compute-ray config', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'compute', id: 'compute-ray' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('marks authToken as a secret, so the host stores a reference and never shows the value', () => {
    expect(isSecretSchema(computeRayConfig.shape.authToken.unwrap())).toBe(true);
  });

  it.each([
    ['no address', {}, /address/],
    ['an address that is not http', { address: 'ray://head:10001' }, /address: an http or https URL of the Ray dashboard/],
    ['an unknown key', { address: 'http://head:8265', workDir: '/tmp' }, /workDir/],
    ['an empty authToken', { address: 'http://head:8265', authToken: '' }, /authToken: must not be empty/],
    ['a capacity with negative CPUs', { address: 'http://head:8265', capacity: { cpus: -1, memoryBytes: 1 } }, /capacity.cpus: 0 or more/],
    ['a GPU memory that is not a whole number of bytes', { address: 'http://head:8265', gpuMemoryBytes: { A100: 1.5 } }, /gpuMemoryBytes/],
  ])('refuses %s, naming the key', async (_why, config, message) => {
    await expect(createPluginInstance(plugin, config)).rejects.toBeInstanceOf(PluginConfigError);
    await expect(createPluginInstance(plugin, config)).rejects.toThrow(message);
  });
});

describe('compute-ray against a fake Ray dashboard', () => {
  let ray: FakeRay;

  beforeAll(async () => {
    ray = await startFakeRay({ resources: { CPU: 8, memory: 2 ** 33 } });
  });

  afterAll(async () => {
    await ray.close();
  });

  describeComputeConformance('compute-ray', () => createPluginInstance(plugin, { address: ray.url, pollIntervalMs: 50 }), {
    succeeding: (line) => job('succeeds', 'echo', line),
    failing: () => job('fails', 'sh', '-c', 'exit 3'),
    running: () => job('runs', 'sleep', '3600'),
    unrunnable: () => ({ name: 'image', image: 'python:3.12', command: ['python', '-V'], resources }),
  });

  describe('after the suite', () => {
    it('sent nothing that the real Jobs API would refuse', () => {
      expect(ray.rejected).toEqual([]);
      expect(ray.submitted.length).toBeGreaterThan(0);
    });
  });
});
