import type { ModelSignature, Tensor, TensorDatatype, TensorSpec } from '@trellis/plugin-sdk';

/** A tensor checked against the model's signature, its data in the array onnxruntime takes for its type. */
export interface OrtInput {
  name: string;
  datatype: TensorDatatype;
  shape: readonly number[];
  data: OrtData;
}

/** The arrays onnxruntime-node takes and gives: a typed array, or strings for `string` tensors. */
export type OrtData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];

type TypedArrayClass = { new (length: number): Exclude<OrtData, string[]>; readonly name: string };

/** Each OIP datatype's onnxruntime type and array class; BOOL travels as bytes, FP16 as its bits. */
const TYPES: Record<TensorDatatype, { ort: string; array?: TypedArrayClass }> = {
  BOOL: { ort: 'bool', array: Uint8Array },
  UINT8: { ort: 'uint8', array: Uint8Array },
  UINT16: { ort: 'uint16', array: Uint16Array },
  UINT32: { ort: 'uint32', array: Uint32Array },
  UINT64: { ort: 'uint64', array: BigUint64Array },
  INT8: { ort: 'int8', array: Int8Array },
  INT16: { ort: 'int16', array: Int16Array },
  INT32: { ort: 'int32', array: Int32Array },
  INT64: { ort: 'int64', array: BigInt64Array },
  FP16: { ort: 'float16', array: Uint16Array },
  FP32: { ort: 'float32', array: Float32Array },
  FP64: { ort: 'float64', array: Float64Array },
  BYTES: { ort: 'string' },
};

const FROM_ORT = new Map(Object.entries(TYPES).map(([datatype, { ort }]) => [ort, datatype as TensorDatatype]));

/** The onnxruntime type of an OIP datatype. */
export function ortType(datatype: TensorDatatype): string {
  return TYPES[datatype].ort;
}

/** The OIP datatype of an onnxruntime type, or undefined for one OIP has no name for. */
export function datatypeOf(ortType: string): TensorDatatype | undefined {
  return FROM_ORT.get(ortType);
}

/** The number of values a tensor of `shape` holds. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * `inputs` checked against `signature` (each input once, by name, of its datatype and shape, with
 * as many values as its shape holds) and converted for onnxruntime, in the signature's order.
 * Throws a TypeError naming the first input that does not fit.
 */
export function checkInputs(signature: ModelSignature, inputs: readonly Tensor[]): OrtInput[] {
  const given = new Map<string, Tensor>();
  const expected = signature.inputs.map((spec) => spec.name);
  for (const tensor of inputs) {
    if (!signature.inputs.some((spec) => spec.name === tensor?.name)) throw new TypeError(`input "${tensor?.name}" is not an input of the model, which takes ${JSON.stringify(expected)}`);
    if (given.has(tensor.name)) throw new TypeError(`input "${tensor.name}" is given twice`);
    given.set(tensor.name, tensor);
  }
  return signature.inputs.map((spec) => {
    const tensor = given.get(spec.name);
    if (!tensor) throw new TypeError(`input "${spec.name}" is missing: the model takes ${JSON.stringify(expected)}`);
    return checkInput(spec, tensor);
  });
}

function checkInput(spec: TensorSpec, tensor: Tensor): OrtInput {
  const name = spec.name;
  if (tensor.datatype !== spec.datatype) throw new TypeError(`input "${name}" is ${spec.datatype}, got ${String(tensor.datatype)}`);
  const shape = Array.isArray(tensor.shape) || ArrayBuffer.isView(tensor.shape) ? Array.from(tensor.shape) : undefined;
  const fits = shape !== undefined && shape.length === spec.shape.length && shape.every((dim, i) => Number.isSafeInteger(dim) && dim >= 0 && (spec.shape[i] === -1 || spec.shape[i] === dim));
  if (!fits) throw new TypeError(`input "${name}" has shape ${shapeText(spec.shape)} (-1: any size), got ${shape ? shapeText(shape) : String(tensor.shape)}`);
  const count = sizeOf(shape);
  const length = (tensor.data as ArrayLike<unknown> | undefined)?.length;
  if (length !== count) throw new TypeError(`input "${name}" of shape ${shapeText(shape)} holds ${count} values, got ${length ?? 'no data'}`);
  return { name, datatype: spec.datatype, shape, data: toOrtData(name, spec.datatype, tensor.data) };
}

/** The values as onnxruntime takes them: a typed array of the datatype's class is used as it is, anything else converted and checked. */
function toOrtData(name: string, datatype: TensorDatatype, data: Tensor['data']): OrtData {
  const { array } = TYPES[datatype];
  if (!array) {
    return Array.from(data as ArrayLike<unknown>, (value, i) => {
      if (typeof value === 'string') return value;
      if (value instanceof Uint8Array || ArrayBuffer.isView(value)) return new TextDecoder().decode(value as Uint8Array);
      throw new TypeError(`input "${name}" is BYTES: value ${i} must be a string or bytes, got ${typeof value}`);
    });
  }
  // By tag, not instanceof: a typed array made in another realm (a vm context) is still one.
  if (Object.prototype.toString.call(data) === `[object ${array.name}]` && datatype !== 'BOOL') return data as OrtData;
  const values = data as ArrayLike<unknown>;
  const out = new array(values.length);
  const bigints = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (datatype === 'BOOL') {
      if (typeof value !== 'boolean' && value !== 0 && value !== 1) throw new TypeError(`input "${name}" is BOOL: value ${i} must be true, false, 0 or 1, got ${String(value)}`);
      out[i] = value ? 1 : 0;
    } else if (bigints) {
      if (typeof value !== 'bigint' && !Number.isSafeInteger(value)) throw new TypeError(`input "${name}" is ${datatype}: value ${i} must be an integer, got ${String(value)}`);
      out[i] = BigInt(value as number | bigint) as never;
    } else {
      if (typeof value !== 'number') throw new TypeError(`input "${name}" is ${datatype}: value ${i} must be a number, got ${typeof value}`);
      out[i] = value as never;
    }
  }
  return out;
}

/** The values of an onnxruntime output as the contract gives them: booleans for BOOL, a copy of its own otherwise. */
export function fromOrtData(datatype: TensorDatatype, data: OrtData, start: number, end: number): Tensor['data'] {
  if (datatype === 'BOOL') return Array.from((data as Uint8Array).subarray(start, end), (value) => value !== 0);
  // slice, not subarray: a view would carry the whole batch's buffer with it across threads.
  return data.slice(start, end);
}
