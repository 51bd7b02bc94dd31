import type { DynamicBatching, Tensor } from '../contracts';

type TypedArray = Exclude<ArrayBufferView, DataView> & ArrayLike<number | bigint> & { set(values: ArrayLike<number | bigint>, offset: number): void; subarray(start: number, end: number): TypedArray };
type TypedArrayClass = new (length: number) => TypedArray;

const isTypedArray = (data: unknown): data is TypedArray => ArrayBuffer.isView(data) && !(data instanceof DataView);

/**
 * `batching` checked: `maxBatchSize` an integer of at least 1, `maxQueueDelayMs` a number of at
 * least 0. Throws a TypeError naming the field otherwise.
 */
export function checkBatching(batching: DynamicBatching): DynamicBatching {
  const { maxBatchSize, maxQueueDelayMs } = batching ?? {};
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) throw new TypeError(`batching.maxBatchSize must be an integer of at least 1, got ${String(maxBatchSize)}`);
  if (!Number.isFinite(maxQueueDelayMs) || maxQueueDelayMs < 0) throw new TypeError(`batching.maxQueueDelayMs must be a number of at least 0, got ${String(maxQueueDelayMs)}`);
  return { maxBatchSize, maxQueueDelayMs };
}

/**
 * The rows of one call's `inputs` and the key of the calls it may be stacked with: the same input
 * names in the same order, datatypes, array classes and trailing dimensions. Undefined for a call
 * that can only run alone: no inputs, a tensor whose data is not a typed array holding exactly what
 * its shape says, or inputs that disagree on their rows.
 */
export function rowsOf(inputs: readonly Tensor[]): { key: string; rows: number } | undefined {
  let key = '';
  let rows: number | undefined;
  for (const tensor of inputs) {
    const shape = tensor?.shape;
    if (!Array.isArray(shape) || shape.length === 0 || !isTypedArray(tensor.data)) return undefined;
    let size = 1;
    for (const dim of shape) {
      if (!Number.isSafeInteger(dim) || dim < 0) return undefined;
      size *= dim;
    }
    if (tensor.data.length !== size || (rows !== undefined && shape[0] !== rows) || shape[0] === 0) return undefined;
    rows = shape[0] as number;
    key += `${tensor.name}\u0000${tensor.datatype}\u0000${tensor.data.constructor.name}[${shape.slice(1).join(',')}]\u0000`;
  }
  return rows === undefined ? undefined : { key, rows };
}

/**
 * The tensors of several calls stacked along their first dimension, one tensor per input: calls
 * of the same input names, datatypes and trailing dimensions, each input's data all typed arrays
 * of one class or all plain arrays.
 */
export function stackRows(calls: readonly (readonly Tensor[])[]): Tensor[] {
  return calls[0].map((first, index) => {
    const pieces = calls.map((inputs) => inputs[index]);
    const shape = [pieces.reduce((sum, piece) => sum + piece.shape[0], 0), ...first.shape.slice(1)];
    if (!isTypedArray(first.data)) return { ...first, shape, data: pieces.flatMap((piece) => Array.from(piece.data as ArrayLike<unknown>)) as Tensor['data'] };
    const data = new (first.data.constructor as TypedArrayClass)(pieces.reduce((sum, piece) => sum + piece.data.length, 0));
    let offset = 0;
    for (const piece of pieces) {
      data.set(piece.data as unknown as TypedArray, offset);
      offset += piece.data.length;
    }
    return { ...first, shape, data: data as unknown as Tensor['data'] };
  });
}

/**
 * The outputs of a stacked run split back into each call's rows (`rows`, in the order stacked):
 * typed arrays as views of the run's arrays, plain arrays as slices. Throws where an output's first
 * dimension is not the rows of the run: such a model cannot be batched.
 */
export function splitRows(outputs: readonly Tensor[], rows: readonly number[]): Tensor[][] {
  const total = rows.reduce((sum, count) => sum + count, 0);
  for (const tensor of outputs) {
    if (tensor.shape[0] !== total) throw new Error(`output "${tensor.name}" has ${tensor.shape[0]} rows for a batch of ${total}: the model cannot be batched; load it with batching.maxBatchSize 1`);
  }
  let first = 0;
  return rows.map((count) => {
    const split = outputs.map((tensor) => {
      const rowSize = tensor.shape.slice(1).reduce((product, dim) => product * dim, 1);
      const [start, end] = [first * rowSize, (first + count) * rowSize];
      const data = isTypedArray(tensor.data) ? tensor.data.subarray(start, end) : Array.prototype.slice.call(tensor.data, start, end);
      return { name: tensor.name, datatype: tensor.datatype, shape: [count, ...tensor.shape.slice(1)], data: data as Tensor['data'] };
    });
    first += count;
    return split;
  });
}
