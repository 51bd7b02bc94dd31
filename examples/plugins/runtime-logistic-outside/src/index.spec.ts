import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeRuntimeConformance } from '@trellis/plugin-sdk/testing';
import plugin, { LOGISTIC_JSON_FORMAT, type LogisticModelFile } from './index';

const model: LogisticModelFile = { weights: [0.5, -1, 2], bias: 0.25 };
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function modelFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'runtime-logistic-')), 'model.json');
  writeFileSync(path, JSON.stringify(model));
  return path;
}

describe('runtime-logistic-outside', () => {
  it('refuses a maxBatchRows of 0, naming it', async () => {
    const failure = createPluginInstance(plugin, { maxBatchRows: 0 });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/maxBatchRows/);
  });

  it('refuses a batch over maxBatchRows with a RangeError naming it', async () => {
    const loaded = await (await createPluginInstance(plugin, { maxBatchRows: 1 })).load(modelFile(), LOGISTIC_JSON_FORMAT);
    await expect(loaded.infer([{ name: 'x', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) }])).rejects.toThrow(/maxBatchRows/);
  });
});

describeRuntimeConformance('runtime-logistic-outside', () => createPluginInstance(plugin, {}), () => ({
  model: { path: modelFile(), format: LOGISTIC_JSON_FORMAT },
  example: {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1, 2, 3]) }],
    outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 1], data: new Float32Array([sigmoid(0.5 - 2 + 6 + 0.25)]) }],
  },
  // The built module, as serving loads it in a worker thread: this spec runs from dist/ next to it.
  worker: { modulePath: join(__dirname, 'index.js'), config: {} },
}));
