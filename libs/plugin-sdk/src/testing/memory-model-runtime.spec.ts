import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LINEAR_MODEL as MODEL, memoryRuntimeFixture } from '../../test/memory-runtime-fixture';
import { LINEAR_JSON_FORMAT, MemoryModelRuntime } from './memory-model-runtime';
import { loadPluginInWorker } from '../runtime-worker';
import { describeRuntimeConformance } from './runtime.conformance';

const fixture = memoryRuntimeFixture('memory-runtime-');

describeRuntimeConformance('memory (the test runtime)', () => new MemoryModelRuntime(), () => ({
  model: { path: fixture.modelPath, format: LINEAR_JSON_FORMAT },
  example: {
    // Rows (1, 2, 3) and (0, 0, 0): scores (1 + 6 + 0.5, -2 + 1.5) and the bias (0.5, 0).
    inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 3], data: new Float32Array([1, 2, 3, 0, 0, 0]) }],
    outputs: [{ name: 'scores', datatype: 'FP32', shape: [2, 2], data: new Float32Array([7.5, -0.5, 0.5, 0]) }],
  },
  worker: { modulePath: fixture.pluginModule, config: {} },
}));

describe('MemoryModelRuntime', () => {
  it('refuses a model file that is not a linear-json model, naming the field', async () => {
    const bad = join(fixture.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...MODEL, bias: [1] }));
    await expect(new MemoryModelRuntime().load(bad, LINEAR_JSON_FORMAT)).rejects.toThrow(/bias must hold 2 finite numbers/);
  });
});

describe('loadPluginInWorker', () => {
  it('refuses a module whose default export is not a plugin, saying what a runtime module exports', async () => {
    const notPlugin = join(fixture.dir, 'not-a-plugin.js');
    await writeFile(notPlugin, 'module.exports = { hello: "world" };');
    await expect(loadPluginInWorker(notPlugin, { config: {} })).rejects.toThrow(/default export is not a plugin.*export default definePlugin/);
  });

  it('refuses a plugin of another kind, naming its kind', async () => {
    const notRuntime = join(fixture.dir, 'sdk', 'notifier.plugin.js');
    await writeFile(
      notRuntime,
      `const { definePlugin, z } = require('./index.js');
       exports.default = definePlugin({ manifest: { kind: 'notifier', id: 'notifier-x', apiVersion: 'v1' }, configSchema: z.object({}), create: () => ({ deliver: async () => undefined }) });`,
    );
    await expect(loadPluginInWorker(notRuntime, { config: {} })).rejects.toThrow(/is a notifier plugin \(notifier-x\), not a runtime plugin/);
  });

  it('refuses a config its schema refuses, naming the key', async () => {
    await expect(loadPluginInWorker(fixture.pluginModule, { config: { extra: true } })).rejects.toThrow(/runtime instance "test" \(plugin runtime-memory\) has an invalid config: .*extra/);
  });

  it('rejects with the error of a module that cannot be imported', async () => {
    await expect(loadPluginInWorker(join(fixture.dir, 'missing.js'), { config: {} })).rejects.toThrow(/missing\.js/);
  });

  it('forwards what the instance logs to the given logger', async () => {
    const logged = join(fixture.dir, 'sdk', 'logging.plugin.js');
    await writeFile(
      logged,
      `const { definePlugin, z } = require('./index.js');
       const { MemoryModelRuntime } = require('./testing/memory-model-runtime.js');
       exports.default = definePlugin({ manifest: { kind: 'runtime', id: 'runtime-logging', apiVersion: 'v1' }, configSchema: z.object({}),
         create: (ctx) => { ctx.logger.info({ instance: ctx.instanceName }, 'created in a worker'); return new MemoryModelRuntime(); } });`,
    );
    const lines: unknown[] = [];
    const record = (obj: object, msg?: string) => lines.push([obj, msg]);
    const runtime = await loadPluginInWorker(logged, { config: {}, instanceName: 'serving-1', logger: { debug: record, info: record, warn: record, error: record } });
    await runtime.close();
    expect(lines).toEqual([[{ instance: 'serving-1' }, 'created in a worker']]);
  });
});
