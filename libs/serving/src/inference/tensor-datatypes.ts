import { endianness } from 'node:os';
import type { TensorDatatype } from '@trellis/plugin-sdk';

/** The field of `inference.InferTensorContents` a datatype's elements travel in. */
export type ContentsField = 'boolContents' | 'intContents' | 'int64Contents' | 'uintContents' | 'uint64Contents' | 'fp32Contents' | 'fp64Contents' | 'bytesContents';

/** The typed array classes a tensor's numeric data is held in, as one shape. */
export interface NumericArrayConstructor {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView & ArrayLike<number | bigint>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each class takes its own element type
  from(values: ArrayLike<any>): ArrayBufferView & ArrayLike<number | bigint>;
  readonly BYTES_PER_ELEMENT: number;
}

/** How the Open Inference Protocol carries one datatype. */
export interface DatatypeCodec {
  /** Bytes per element in raw form; 0 for BYTES, whose elements are length-prefixed. */
  size: number;
  /** The typed field of InferTensorContents; none for FP16, which travels only raw. */
  contents?: ContentsField;
  /** The typed array a `Tensor` holds it in; none for BOOL (booleans) and BYTES (strings or byte arrays). */
  array?: NumericArrayConstructor;
  /** Smallest and largest value, for integers narrower than their contents field. */
  range?: readonly [number, number];
}

// Raw contents are little-endian and typed arrays use the machine's order: the two agree on every
// platform Node ships for; refuse to run elsewhere rather than answer with swapped bytes.
if (endianness() !== 'LE') throw new Error('the Open Inference Protocol codec needs a little-endian machine');

/**
 * Every datatype a runtime's tensors may have, as the protocol carries it. FP16 is held as a
 * Uint16Array of the IEEE half-precision bit patterns (as onnxruntime holds float16): JavaScript
 * has no half-precision array on Node 20, and no arithmetic is done on it here.
 */
export const DATATYPES: Readonly<Record<TensorDatatype, DatatypeCodec>> = {
  BOOL: { size: 1, contents: 'boolContents' },
  UINT8: { size: 1, contents: 'uintContents', array: Uint8Array, range: [0, 0xff] },
  UINT16: { size: 2, contents: 'uintContents', array: Uint16Array, range: [0, 0xffff] },
  UINT32: { size: 4, contents: 'uintContents', array: Uint32Array },
  UINT64: { size: 8, contents: 'uint64Contents', array: BigUint64Array },
  INT8: { size: 1, contents: 'intContents', array: Int8Array, range: [-0x80, 0x7f] },
  INT16: { size: 2, contents: 'intContents', array: Int16Array, range: [-0x8000, 0x7fff] },
  INT32: { size: 4, contents: 'intContents', array: Int32Array },
  INT64: { size: 8, contents: 'int64Contents', array: BigInt64Array },
  FP16: { size: 2, array: Uint16Array },
  FP32: { size: 4, contents: 'fp32Contents', array: Float32Array },
  FP64: { size: 8, contents: 'fp64Contents', array: Float64Array },
  BYTES: { size: 0, contents: 'bytesContents' },
};

/** The proto name of a contents field (`fp32_contents`), as error messages name it. */
export const CONTENTS_FIELD_NAMES: Readonly<Record<ContentsField, string>> = {
  boolContents: 'bool_contents',
  intContents: 'int_contents',
  int64Contents: 'int64_contents',
  uintContents: 'uint_contents',
  uint64Contents: 'uint64_contents',
  fp32Contents: 'fp32_contents',
  fp64Contents: 'fp64_contents',
  bytesContents: 'bytes_contents',
};

/** Whether `name` is a datatype the protocol and the runtime contract both know. */
export function isDatatype(name: string): name is TensorDatatype {
  return Object.hasOwn(DATATYPES, name);
}
