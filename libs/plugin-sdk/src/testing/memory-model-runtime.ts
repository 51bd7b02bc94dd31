import { readFile } from 'node:fs/promises';
import type { LoadedModel, ModelRuntime, ModelSignature, Tensor } from '../contracts';

/** The format `MemoryModelRuntime` loads. */
export const LINEAR_JSON_FORMAT = 'linear-json';

/**
 * A `linear-json` model: `output = weights · input + bias` for each row of a batch. Plain JSON:
 * `weights` has one row per output value, each as long as the input; `bias` one value per output.
 *
 * @example
 * { "input": "features", "output": "scores", "weights": [[1, 0, 2], [0, -1, 0.5]], "bias": [0.5, 0] }
 */
export interface LinearModelFile {
  /** The name of the input tensor (FP32, shape [-1, input size]). */
  input: string;
  /** The name of the output tensor (FP32, shape [-1, output size]). */
  output: string;
  /** One row per output value. */
  weights: number[][];
  /** One value per output value. */
  bias: number[];
}

/**
 * The runtime contract in memory, for specs: loads `linear-json` models (see `LinearModelFile`), a
 * real if tiny model, and runs them in the calling thread. It passes `describeRuntimeConformance`,
 * in process and in a worker thread (its plugin module is `memory-runtime.plugin`).
 */
export class MemoryModelRuntime implements ModelRuntime {
  readonly formats = [LINEAR_JSON_FORMAT];
  // Each output row is the model applied to its input row, into a fresh array.
  readonly batchesAlongFirstDimension = true;

  async load(path: string, format: string): Promise<LoadedModel> {
    if (format !== LINEAR_JSON_FORMAT) throw new TypeError(`MemoryModelRuntime loads ${LINEAR_JSON_FORMAT} models, not ${JSON.stringify(format)}`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the model file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new LinearModel(parseModel(text, path));
  }
}

class LinearModel implements LoadedModel {
  private loaded = true;
  private readonly signature: ModelSignature;

  constructor(private readonly model: LinearModelFile) {
    this.signature = {
      inputs: [{ name: model.input, datatype: 'FP32', shape: [-1, model.weights[0].length] }],
      outputs: [{ name: model.output, datatype: 'FP32', shape: [-1, model.weights.length] }],
    };
  }

  describe(): ModelSignature {
    return structuredClone(this.signature) as ModelSignature;
  }

  async infer(inputs: readonly Tensor[], options: { signal?: AbortSignal } = {}): Promise<Tensor[]> {
    options.signal?.throwIfAborted();
    if (!this.loaded) throw new Error('the model was unloaded');
    const { input, output, weights, bias } = this.model;
    const size = weights[0].length;
    const names = inputs.map((t) => t.name);
    if (inputs.length !== 1 || names[0] !== input) throw new TypeError(`the model takes one tensor, ${JSON.stringify(input)}; got ${JSON.stringify(names)}`);
    const [tensor] = inputs;
    if (tensor.datatype !== 'FP32') throw new TypeError(`tensor ${input} is FP32, got ${tensor.datatype}`);
    const [rows, columns] = tensor.shape;
    if (tensor.shape.length !== 2 || columns !== size || !Number.isInteger(rows) || rows < 1) {
      throw new TypeError(`tensor ${input} has shape [-1, ${size}], got [${tensor.shape.join(', ')}]`);
    }
    if (tensor.data.length !== rows * size) throw new TypeError(`tensor ${input} of shape [${rows}, ${size}] holds ${rows * size} values, got ${tensor.data.length}`);
    const data = tensor.data as ArrayLike<number>;
    const result = new Float32Array(rows * weights.length);
    for (let row = 0; row < rows; row++) {
      for (let out = 0; out < weights.length; out++) {
        let value = bias[out];
        for (let i = 0; i < size; i++) value += weights[out][i] * Number(data[row * size + i]);
        result[row * weights.length + out] = value;
      }
    }
    return [{ name: output, datatype: 'FP32', shape: [rows, weights.length], data: result }];
  }

  async unload(): Promise<void> {
    this.loaded = false;
  }
}

function parseModel(text: string, path: string): LinearModelFile {
  let model: Partial<LinearModelFile>;
  try {
    model = JSON.parse(text) as Partial<LinearModelFile>;
  } catch (err) {
    throw new TypeError(`the model file ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const problem = (field: string, what: string) => new TypeError(`the model file ${path} is not a ${LINEAR_JSON_FORMAT} model: ${field} ${what}`);
  if (typeof model.input !== 'string' || model.input === '') throw problem('input', 'must name the input tensor');
  if (typeof model.output !== 'string' || model.output === '') throw problem('output', 'must name the output tensor');
  const { weights, bias } = model;
  if (!Array.isArray(weights) || weights.length === 0 || !Array.isArray(weights[0]) || weights[0].length === 0) throw problem('weights', 'must be a non-empty array of non-empty rows');
  weights.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== weights[0].length || !row.every(Number.isFinite)) throw problem(`weights[${i}]`, `must hold ${weights[0].length} finite numbers`);
  });
  if (!Array.isArray(bias) || bias.length !== weights.length || !bias.every(Number.isFinite)) throw problem('bias', `must hold ${weights.length} finite numbers, one per row of weights`);
  return { input: model.input, output: model.output, weights, bias };
}
