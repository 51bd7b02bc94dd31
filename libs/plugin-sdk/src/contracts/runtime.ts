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
  /** Frees what the model holds. */
  unload(): Promise<void>;
}

/** Runtime contract, v1: loads model artifacts of the formats it declares and runs them. */
export interface ModelRuntime extends PluginInstance {
  /** The artifact formats it loads (`onnx`). */
  readonly formats: readonly string[];
  /**
   * Loads the artifact at `path` (a file or directory on local disk) of `format`. Throws a
   * `TypeError` for a format it does not declare.
   */
  load(path: string, format: string): Promise<LoadedModel>;
}
