import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeRuntimeConformance, loadPluginInWorker } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import { buildForWorker } from '../test/build-for-worker';
import { expectValues, FEATURES, featureRows, mlp, OUTPUTS, writeModel } from '../test/models';
import plugin, { ONNX_FORMAT } from './index';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-onnx-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const features = (rows: number[][]) => ({ name: 'x', datatype: 'FP32', shape: [rows.length, FEATURES], data: new Float32Array(rows.flat()) }) as const;
const scores = (rows: number[][]) => ({ name: 'y', datatype: 'FP32', shape: [rows.length, OUTPUTS], data: new Float32Array(rows.flat()) }) as const;

describe('runtime-onnx', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'runtime', id: 'runtime-onnx' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses a batching maxBatchSize of 0, a negative delay and an unknown key, naming them', async () => {
    await expect(createPluginInstance(plugin, { batching: { maxBatchSize: 0 } })).rejects.toThrow(PluginConfigError);
    await expect(createPluginInstance(plugin, { batching: { maxBatchSize: 0 } })).rejects.toThrow(/maxBatchSize/);
    await expect(createPluginInstance(plugin, { batching: { maxQueueDelayMs: -1 } })).rejects.toThrow(/maxQueueDelayMs/);
    await expect(createPluginInstance(plugin, { threads: 2 })).rejects.toThrow(/threads/);
  });

  it('batches concurrent calls in a worker thread as serving runs it, with the batching the load asks for', async () => {
    const path = await writeModel('mlp', join(dir, 'worker-batching.onnx'));
    const runtime = await loadPluginInWorker(await buildForWorker(__dirname, join(dir, 'build-batching')), { config: {} });
    try {
      const model = await runtime.load(path, ONNX_FORMAT, { batching: { maxBatchSize: 3, maxQueueDelayMs: 60_000 } });
      const calls = [0, 1, 2].map((seed) => featureRows(1, seed));
      const answers = await Promise.all(calls.map((rows) => model.infer([features(rows)])));
      answers.forEach((outputs, i) => expectValues(outputs[0].data, mlp(calls[i])));
      expect(await model.stats?.()).toMatchObject({ requests: 3, runs: 1, batchSizes: { 3: 1 } });
    } finally {
      await runtime.close();
    }
  });
});

describeRuntimeConformance('runtime-onnx', () => createPluginInstance(plugin, {}), async () => {
  const rows = featureRows(1);
  return {
    model: { path: await writeModel('mlp', join(dir, 'mlp.onnx')), format: ONNX_FORMAT },
    // Computed in float64 from the same weights (test/models.ts), not by onnxruntime.
    example: { inputs: [features(rows)], outputs: [scores(mlp(rows))] },
    worker: { modulePath: await buildForWorker(__dirname, join(dir, 'build')), config: {} },
  };
});
