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

/** A model held in memory, ready to infer. */
export interface LoadedModel {
  /** Its inputs and outputs. */
  describe(): ModelSignature;
  /** Runs one batch: a tensor per input, returns a tensor per output. Throws `TypeError` for a tensor that does not fit the signature. */
  infer(inputs: readonly Tensor[], options?: { signal?: AbortSignal }): Promise<Tensor[]>;
  /** Frees what the model holds; `infer` rejects from then on. */
  unload(): Promise<void>;
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
 * `loadPluginInWorker` in `@trellis/plugin-sdk/testing` loads a module this way in a spec.
 */
export interface ModelRuntime extends PluginInstance {
  /** The artifact formats it loads (`onnx`). */
  readonly formats: readonly string[];
  /**
   * Loads the artifact at `path` (a file or directory on local disk) of `format`. Throws a
   * `TypeError` for a format it does not declare.
   */
  load(path: string, format: string): Promise<LoadedModel>;
}
