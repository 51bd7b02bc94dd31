import type { DynamicBatching, InferenceStats, LoadedModel, ModelSignature, Tensor } from '../contracts';
import { DynamicBatcher } from './dynamic-batcher';
import { rowsOf, splitRows, stackRows } from './rows';
import type { WorkerClient } from './worker-client';

/** A model loaded in a plugin worker, as the worker's `load` describes it. */
export interface WorkerModelHandle {
  handle: number;
  signature: ModelSignature;
  /** The runtime's model keeps stats. */
  stats: boolean;
}

/** Whether calls of a model of `signature` may be stacked along the first dimension: every input and output leaves it free. */
export function stackable(signature: ModelSignature): boolean {
  return [...signature.inputs, ...signature.outputs].every((spec) => spec.shape.length > 0 && spec.shape[0] === -1);
}

/**
 * A model living in a plugin worker, used from the thread that loaded it. With `batching` (the
 * runtime batches along the first dimension and the model can be stacked), calls are gathered
 * here, before the hop: each gathering crosses to the worker as one call of stacked tensors, moved
 * rather than copied, and its outputs are split back into each call's rows. A stacked run that
 * fails is run again call by call, so one call's fault fails that call alone.
 */
export class WorkerModel implements LoadedModel {
  private readonly batcher: DynamicBatcher<readonly Tensor[], Tensor[]> | undefined;
  private unloaded = false;
  readonly stats?: () => Promise<InferenceStats>;

  constructor(
    private readonly client: WorkerClient,
    private readonly model: WorkerModelHandle,
    batching: DynamicBatching | undefined,
  ) {
    if (batching) {
      const batcher = new DynamicBatcher<readonly Tensor[], Tensor[]>(batching, (calls) => this.runGathered(calls));
      this.batcher = batcher;
      this.stats = async () => batcher.stats();
    } else if (model.stats) {
      this.stats = async () => (await client.call('stats', [model.handle])) as InferenceStats;
    }
  }

  describe(): ModelSignature {
    return structuredClone(this.model.signature) as ModelSignature;
  }

  async infer(inputs: readonly Tensor[], options: { signal?: AbortSignal } = {}): Promise<Tensor[]> {
    options.signal?.throwIfAborted();
    if (!this.batcher) return this.send(inputs, options.signal);
    if (this.unloaded) throw new Error('the model was unloaded');
    const rows = rowsOf(inputs);
    return this.batcher.submit(rows?.key, inputs, rows?.rows ?? 1, options.signal);
  }

  async unload(): Promise<void> {
    this.unloaded = true;
    this.batcher?.close(new Error('the model was unloaded'));
    await this.client.call('unload', [this.model.handle]);
  }

  private async runGathered(calls: (readonly Tensor[])[]): Promise<(Tensor[] | Promise<Tensor[]>)[]> {
    if (calls.length === 1) return [await this.send(calls[0])];
    const stacked = stackRows(calls);
    try {
      const outputs = await this.send(stacked, undefined, stacked.map((tensor) => (tensor.data as unknown as ArrayBufferView).buffer as ArrayBuffer));
      return splitRows(outputs, calls.map((inputs) => inputs[0].shape[0]));
    } catch {
      return calls.map((inputs) => this.send(inputs));
    }
  }

  private async send(inputs: readonly Tensor[], signal?: AbortSignal, transfer?: readonly ArrayBuffer[]): Promise<Tensor[]> {
    return (await this.client.call('infer', [this.model.handle, inputs, signal !== undefined], signal, transfer)) as Tensor[];
  }
}
