import type { JobSpec } from '@trellis/plugin-sdk';
import { createPluginInstance, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import { type FakeKubernetes, startFakeKubernetes } from '../test/fake-kubernetes';
import plugin from './index';

const resources = { cpus: 0.1, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, image: 'busybox:1.36', command, resources });

let fake: FakeKubernetes;

beforeAll(async () => {
  fake = await startFakeKubernetes({ nodes: [{ name: 'node-a', cpus: 64, memoryBytes: 64 * 2 ** 30, gpus: 2, labels: { 'nvidia.com/gpu.product': 'tesla', 'nvidia.com/gpu.memory': '16384' } }] });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  expect(fake.validationFailures).toEqual([]);
});

describeComputeConformance('compute-kubernetes (fake API server)', () => createPluginInstance(plugin, { kubeconfig: fake.kubeconfig, namespace: 'conformance' }), {
  succeeding: (line) => job('succeeds', 'echo', line),
  failing: () => job('fails', 'sh', '-c', 'exit 3'),
  running: () => job('runs', 'sleep', '3600'),
  unrunnable: () => ({ name: 'no-image', command: ['echo', 'no image'], resources }),
});
