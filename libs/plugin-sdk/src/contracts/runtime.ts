import type { PluginInstance } from './plugin-instance';

/** Tensor element types, named as in the Open Inference Protocol (KServe V2). */
export type TensorDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** A model input or output as the model declares it. */
export interface TensorSpec {
  /** The name the model gives it. */
  name: string;
  /** Its element type. */
  datatype: TensorDatatype;
  /** Dimensions; -1 where any size is accepted (usually the batch dimension). */
  shape: readonly number[];
}

/** A model's inputs and outputs. */
export interface ModelSignature {
  /** What `infer` takes, one tensor each. */
  inputs: readonly TensorSpec[];
  /** What `infer` returns, one tensor each. */
  outputs: readonly TensorSpec[];
}

/** Tensor data, flattened in row-major order. */
export interface Tensor {
  /** The input or output it is for. */
  name: string;
  /** Its element type. */
  datatype: TensorDatatype;
  /** Its dimensions, none of them -1. */
  shape: readonly number[];
  /** A typed array matching `datatype`, `string`s or `Uint8Array`s for BYTES, `boolean`s for BOOL. */
  data: ArrayLike<number | bigint | boolean | string> | readonly Uint8Array[];
}

/**
 * Dynamic batching of one loaded model, as Triton's `dynamic_batching`: concurrent `infer` calls
 * whose tensors differ only in their first dimension are run together as one batch along it, and
 * each call gets its own rows back. Calls of other shapes or datatypes are never run together.
 */
export interface DynamicBatching {
  /** The most rows (first dimension) one run takes; a run starts as soon as it has them. 1 turns batching off. */
  maxBatchSize: number;
  /** The longest a call waits for others to join its batch, in milliseconds; 0 runs what is queued at once. */
  maxQueueDelayMs: number;
}

/** How to load one model; plain JSON, as it crosses to a worker thread. */
export interface LoadOptions {
  /** Batching for this model; the runtime's own default where absent. A runtime that does not batch runs each call alone. */
  batching?: DynamicBatching;
}

/** What a loaded model has run since it was loaded. */
export interface InferenceStats {
  /** `infer` calls that reached the model (run, or failed in the run). */
  requests: number;
  /** Runs of the model: with dynamic batching one run answers several calls. */
  runs: number;
  /** How many runs had each batch size, in rows (the first dimension), keyed by that size. */
  batchSizes: Record<number, number>;
  /** The time calls waited in the batch queue before their run, added up, in milliseconds. */
  queueDelayMs: number;
}

/** A model held in memory, ready to infer. */
export interface LoadedModel {
  /** Its inputs and outputs. */
  describe(): ModelSignature;
  /** Runs one batch: a tensor per input, returns a tensor per output. Throws `TypeError` for a tensor that does not fit the signature. */
  infer(inputs: readonly Tensor[], options?: { signal?: AbortSignal }): Promise<Tensor[]>;
  /** Frees what the model holds; `infer` rejects from then on. */
  unload(): Promise<void>;
  /** What it has run so far (for metrics: batch sizes, queue delay); optional, a runtime that keeps no count leaves it out. */
  stats?(): Promise<InferenceStats>;
}

/**
 * Runtime contract, v1: loads model artifacts of the formats it declares and runs them. Checked by
 * `describeRuntimeConformance`, in the test's thread and in a worker thread.
 *
 * Models run in worker threads (serving): the host gives a worker the plugin's module path and the
 * instance's config, and the worker imports the module, takes its default export and calls
 * `create()` there. So a runtime plugin's module:
 * - is importable on its own, by path, in a fresh thread (`import()` of its built JavaScript): no
 *   state set up by the host process, no globals it assigns, no registration call before it;
 * - default-exports its plugin (`export default definePlugin({ manifest: { kind: 'runtime', ... } })`);
 * - has a `create(ctx, config)` that needs nothing of the host beyond a `PluginContext` made in
 *   the worker (its instance name, a logger, its data directory, a signal) and a config that
 *   survives structured cloning (plain JSON: no functions, class instances or secrets already
 *   resolved to objects);
 * - returns models whose tensors are plain typed arrays or arrays, which cross threads as copies.
 * `loadPluginInWorker` (`@trellis/plugin-sdk`) loads a module this way; serving runs its runtime instances with it.
 */
export interface ModelRuntime extends PluginInstance {
  /** The artifact formats it loads (`onnx`). */
  readonly formats: readonly string[];
  /**
   * True where the runtime promises, for every model whose inputs and outputs all leave their first
   * dimension free (-1), that each row of the outputs comes from the same row of the inputs alone,
   * and that the typed arrays of the tensors `infer` returns are its caller's (it keeps no reference
   * to them). A host may then gather concurrent calls, stack them along the first dimension into
   * one `infer` and split the outputs back, and move output buffers between threads rather than copy
   * them: `loadPluginInWorker` does both, batching before the hop to the worker as the `LoadOptions`
   * ask and loading the model in the worker with batching off. Absent: false.
   */
  readonly batchesAlongFirstDimension?: boolean;
  /**
   * Loads the artifact at `path` (a file or directory on local disk) of `format`, with `options`
   * (batching) where given. Throws a `TypeError` for a format it does not declare.
   */
  load(path: string, format: string, options?: LoadOptions): Promise<LoadedModel>;
}
