import { PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeComputeConformance } from '@trellis/plugin-sdk/testing';
import plugin from './index';

const resources = { cpus: 1, memoryBytes: 2 ** 26 };

describe('compute-process-outside', () => {
  it('refuses a negative killAfterMs, naming it', async () => {
    const failure = createPluginInstance(plugin, { killAfterMs: -1 });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/killAfterMs/);
  });

  it('refuses a container image with a TypeError naming image', async () => {
    const backend = await createPluginInstance(plugin, {});
    await expect(backend.submit({ name: 'img', image: 'python:3.12', resources }, { idempotencyKey: 'image-1' })).rejects.toThrow(/^image: /);
  });
});

describeComputeConformance('compute-process-outside', () => createPluginInstance(plugin, {}), {
  succeeding: (line) => ({ name: 'ok', command: ['echo', line], resources }),
  failing: () => ({ name: 'fails', command: ['sh', '-c', 'exit 3'], resources }),
  running: () => ({ name: 'runs', command: ['sleep', '3600'], resources }),
});
