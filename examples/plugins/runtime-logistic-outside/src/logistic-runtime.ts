import { readFile } from 'node:fs/promises';
import type { LoadedModel, ModelRuntime, ModelSignature, Tensor } from '@trellis/plugin-sdk';

/** The format this runtime loads. */
export const LOGISTIC_JSON_FORMAT = 'logistic-json';

/** A `logistic-json` model file: `p = 1 / (1 + exp(-(weights · x + bias)))` for each row `x`. */
export interface LogisticModelFile {
  weights: number[];
  bias: number;
}

/** The runtime contract (v1) for `logistic-json` models: input `x` (FP32, [rows, features]), output `p` (FP32, [rows, 1]). */
export class LogisticRuntime implements ModelRuntime {
  readonly formats = [LOGISTIC_JSON_FORMAT];

  constructor(private readonly maxBatchRows: number) {}

  async load(path: string, format: string): Promise<LoadedModel> {
    if (format !== LOGISTIC_JSON_FORMAT) throw new TypeError(`this runtime loads ${LOGISTIC_JSON_FORMAT} models, not ${JSON.stringify(format)}`);
    let file: LogisticModelFile;
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as LogisticModelFile;
    } catch (error) {
      throw new Error(`cannot read the model file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(file.weights) || file.weights.length === 0 || !file.weights.every(Number.isFinite) || !Number.isFinite(file.bias)) {
      throw new Error(`the model file ${path} is not a logistic-json model: it needs "weights" (finite numbers) and "bias" (a finite number)`);
    }
    return new LogisticModel(Float64Array.from(file.weights), file.bias, this.maxBatchRows);
  }
}

class LogisticModel implements LoadedModel {
  private loaded = true;

  constructor(
    private readonly weights: Float64Array,
    private readonly bias: number,
    private readonly maxBatchRows: number,
  ) {}

  describe(): ModelSignature {
    return {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, this.weights.length] }],
      outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 1] }],
    };
  }

  async infer(inputs: readonly Tensor[], options: { signal?: AbortSignal } = {}): Promise<Tensor[]> {
    options.signal?.throwIfAborted();
    if (!this.loaded) throw new Error('the model was unloaded');
    const features = this.weights.length;
    const [x, ...others] = inputs;
    if (x === undefined || others.length > 0 || x.name !== 'x') throw new TypeError(`the model takes one input, x; got ${inputs.map((t) => t.name).join(', ') || 'none'}`);
    if (x.datatype !== 'FP32') throw new TypeError(`input x is FP32, got ${x.datatype}`);
    const [rows, columns, ...extra] = x.shape;
    if (rows === undefined || columns !== features || extra.length > 0 || x.data.length !== rows * features) {
      throw new TypeError(`input x has shape [rows, ${features}] with rows x ${features} values, got shape [${x.shape.join(', ')}] with ${x.data.length} values`);
    }
    if (rows > this.maxBatchRows) throw new RangeError(`a batch has at most ${this.maxBatchRows} rows (maxBatchRows), got ${rows}`);
    const data = x.data as ArrayLike<number>;
    const p = new Float32Array(rows);
    for (let row = 0; row < rows; row++) {
      let z = this.bias;
      for (let i = 0; i < features; i++) z += (this.weights[i] as number) * (data[row * features + i] as number);
      p[row] = 1 / (1 + Math.exp(-z));
    }
    return [{ name: 'p', datatype: 'FP32', shape: [rows, 1], data: p }];
  }

  async unload(): Promise<void> {
    this.loaded = false;
  }
}
