import { InvalidArgumentError, type WireMessage } from '@trellis/platform';
import type { Tensor, TensorDatatype } from '@trellis/plugin-sdk';
import type { InferTensorContents, InferTensorContentsSchema } from '@trellis/proto';
import { CONTENTS_FIELD_NAMES, DATATYPES, type ContentsField, type NumericArrayConstructor } from './tensor-datatypes';

/** What a tensor is before its data: its name, datatype and shape, already checked against the model. */
export interface TensorHeader {
  name: string;
  datatype: TensorDatatype;
  shape: readonly number[];
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const CONTENTS_FIELDS = Object.keys(CONTENTS_FIELD_NAMES) as readonly ContentsField[];
/** Typed contents with every field empty, as the wire writer takes them. */
const NO_CONTENTS: WireMessage<typeof InferTensorContentsSchema> = Object.freeze(Object.fromEntries(CONTENTS_FIELDS.map((field) => [field, []])) as unknown as WireMessage<typeof InferTensorContentsSchema>);

/** The typed array class of a numeric datatype (all but BOOL and BYTES). */
function arrayOf(datatype: TensorDatatype): NumericArrayConstructor {
  const array = DATATYPES[datatype].array;
  if (!array) throw new TypeError(`${datatype} is not held in a typed array`);
  return array;
}

/** How many elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** `input "x"`, the way errors name a tensor. */
function label(header: TensorHeader, role: string): string {
  return `${role} ${JSON.stringify(header.name)}`;
}

function countError(header: TensorHeader, role: string, got: number): InvalidArgumentError {
  const want = elementCount(header.shape);
  return new InvalidArgumentError(`${label(header, role)} has shape [${header.shape.join(', ')}], ${want} element${want === 1 ? '' : 's'}, but holds ${got}`);
}

/**
 * The tensor `header` describes, from its typed contents (`InferTensorContents`): the elements
 * must be in the field of its datatype, as many as its shape holds, and in range for narrow
 * integers. INVALID_ARGUMENT naming the input otherwise.
 */
export function tensorFromContents(header: TensorHeader, contents: InferTensorContents | undefined, role = 'input'): Tensor {
  const { datatype } = header;
  const codec = DATATYPES[datatype];
  if (!codec.contents) throw new InvalidArgumentError(`${label(header, role)} is ${datatype}, which has no typed contents: send it in raw_input_contents`);
  const wrong = contents && CONTENTS_FIELDS.find((field) => field !== codec.contents && contents[field].length > 0);
  if (wrong) throw new InvalidArgumentError(`${label(header, role)} is ${datatype}: its elements go in ${CONTENTS_FIELD_NAMES[codec.contents]}, not ${CONTENTS_FIELD_NAMES[wrong]}`);
  const values = (contents?.[codec.contents] ?? []) as ArrayLike<unknown>;
  if (values.length !== elementCount(header.shape)) throw countError(header, role, values.length);
  if (codec.range) checkRange(header, role, values as ArrayLike<number>, codec.range);
  let data: Tensor['data'];
  if (codec.array) data = codec.array.from(values);
  else data = values as Tensor['data'];
  return { name: header.name, datatype, shape: header.shape, data };
}

function checkRange(header: TensorHeader, role: string, values: ArrayLike<number>, [min, max]: readonly [number, number]): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min || values[i] > max) throw new InvalidArgumentError(`${label(header, role)} is ${header.datatype}: element ${i} is ${values[i]}, outside [${min}, ${max}]`);
  }
}

/**
 * The tensor `header` describes, from its raw bytes: little-endian elements of the datatype's
 * size, exactly as many as its shape holds; BOOL one byte each (non-zero is true); BYTES each
 * element as a 4-byte little-endian length then that many bytes. INVALID_ARGUMENT naming the
 * input when the bytes do not add up to the shape.
 */
export function tensorFromRaw(header: TensorHeader, bytes: Uint8Array, role = 'input'): Tensor {
  const { datatype } = header;
  const codec = DATATYPES[datatype];
  const count = elementCount(header.shape);
  // Bytes of their own: a view over part of a bigger buffer (a slice of Node's 8 KiB pool, of the
  // whole request) would take all of that buffer with it when the tensor is posted to a worker.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  if (datatype === 'BYTES') return { name: header.name, datatype, shape: header.shape, data: splitLengthPrefixed(header, role, own, count) };
  if (bytes.byteLength !== count * codec.size) {
    throw new InvalidArgumentError(
      `${label(header, role)} has shape [${header.shape.join(', ')}] of ${datatype}, ${count * codec.size} bytes, but its raw contents are ${bytes.byteLength} bytes`,
    );
  }
  if (datatype === 'BOOL') return { name: header.name, datatype, shape: header.shape, data: Array.from(bytes, (byte) => byte !== 0) };
  // At offset 0 of its own buffer, so aligned for any element size.
  return { name: header.name, datatype, shape: header.shape, data: new (arrayOf(datatype))(own.buffer, 0, count) };
}

function splitLengthPrefixed(header: TensorHeader, role: string, bytes: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) throw new InvalidArgumentError(`${label(header, role)} is BYTES: its raw contents end inside the 4-byte length of element ${elements.length}`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) throw new InvalidArgumentError(`${label(header, role)} is BYTES: element ${elements.length} is ${length} bytes long, past the end of its raw contents`);
    elements.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
    if (elements.length > count) break;
  }
  if (elements.length !== count) throw countError(header, role, elements.length);
  return elements;
}

/** The bytes of one BYTES element, a string as UTF-8. */
function elementBytes(value: unknown): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : (value as Uint8Array);
}

/**
 * A tensor's elements as typed contents (the field of its datatype; the others empty), as the
 * wire writer and `create` both take them. Throws for FP16, which has no typed field:
 * `encodesAsContents` says beforehand.
 */
export function tensorToContents(tensor: Tensor): WireMessage<typeof InferTensorContentsSchema> {
  const field = DATATYPES[tensor.datatype].contents;
  if (!field) throw new TypeError(`${tensor.datatype} has no typed contents`);
  return { ...NO_CONTENTS, [field]: contentsValues(field, tensor.data as ArrayLike<unknown>) } as WireMessage<typeof InferTensorContentsSchema>;
}

function contentsValues(field: ContentsField, values: ArrayLike<unknown>): readonly unknown[] {
  switch (field) {
    case 'int64Contents':
    case 'uint64Contents':
      return Array.from(values, (value) => BigInt(value as bigint | number));
    case 'bytesContents':
      return Array.from(values, elementBytes);
    case 'boolContents':
      return Array.from(values, Boolean);
    default:
      return Array.from(values as ArrayLike<number>, Number);
  }
}

/** Whether a tensor's datatype has typed contents (all but FP16). */
export function encodesAsContents(datatype: TensorDatatype): boolean {
  return DATATYPES[datatype].contents !== undefined;
}

/** A tensor's elements as raw little-endian bytes, BYTES length-prefixed, BOOL one byte each. */
export function tensorToRaw(tensor: Tensor): Uint8Array {
  const values = tensor.data as ArrayLike<unknown>;
  if (tensor.datatype === 'BYTES') {
    const elements = Array.from(values, elementBytes);
    const out = new Uint8Array(elements.reduce((total, element) => total + 4 + element.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const element of elements) {
      view.setUint32(at, element.byteLength, true);
      out.set(element, at + 4);
      at += 4 + element.byteLength;
    }
    return out;
  }
  if (tensor.datatype === 'BOOL') return Uint8Array.from(values as ArrayLike<unknown>, (value) => (value ? 1 : 0));
  const Array_ = arrayOf(tensor.datatype);
  const typed = ArrayBuffer.isView(values) && values.constructor === Array_ ? values : Array_.from(values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/**
 * The tensor `header` describes, from a REST `data` array, flat or nested (row-major either
 * way): numbers for numeric types (integers for integer types, in range; INT64 and UINT64 also
 * as decimal strings), booleans for BOOL, strings for BYTES. FP16 has no JSON form.
 */
export function tensorFromJson(header: TensorHeader, data: unknown, role = 'input'): Tensor {
  const { datatype } = header;
  const codec = DATATYPES[datatype];
  if (datatype === 'FP16') throw new InvalidArgumentError(`${label(header, role)} is FP16, which has no JSON form: send it over gRPC in raw_input_contents`);
  if (!Array.isArray(data)) throw new InvalidArgumentError(`${label(header, role)}: data must be an array`);
  // Most clients send data flat: only nested data is flattened (a copy).
  const flat = (data.some(Array.isArray) ? data.flat(Infinity) : data) as unknown[];
  if (flat.length !== elementCount(header.shape)) throw countError(header, role, flat.length);
  const bad = (index: number, want: string) => new InvalidArgumentError(`${label(header, role)} is ${datatype}: element ${index} must be ${want}`);
  const base = { name: header.name, datatype, shape: header.shape };
  if (datatype === 'BOOL') {
    flat.forEach((value, index) => {
      if (typeof value !== 'boolean') throw bad(index, 'true or false');
    });
    return { ...base, data: flat as boolean[] };
  }
  if (datatype === 'BYTES') {
    flat.forEach((value, index) => {
      if (typeof value !== 'string') throw bad(index, 'a string');
    });
    return { ...base, data: flat as string[] };
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const [min, max] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    const values = flat.map((value, index) => {
      const integer = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : typeof value === 'string' && /^-?\d{1,20}$/.test(value) ? BigInt(value) : undefined;
      if (integer === undefined || integer < min || integer > max) throw bad(index, `an integer in [${min}, ${max}]`);
      return integer;
    });
    return { ...base, data: arrayOf(datatype).from(values) };
  }
  const integer = datatype.startsWith('INT') || datatype.startsWith('UINT');
  const [min, max] = codec.range ?? (datatype === 'INT32' ? [-(2 ** 31), 2 ** 31 - 1] : datatype === 'UINT32' ? [0, 2 ** 32 - 1] : [-Infinity, Infinity]);
  flat.forEach((value, index) => {
    if (typeof value !== 'number' || (integer && !Number.isInteger(value)) || value < min || value > max) throw bad(index, integer ? `an integer in [${min}, ${max}]` : 'a number');
  });
  return { ...base, data: arrayOf(datatype).from(flat) };
}

/**
 * A tensor as the JSON text of a REST output, `{"name", "datatype", "shape", "data"}`, its data
 * flat: BYTES as UTF-8 strings, INT64 and UINT64 as exact integer literals, non-finite floats
 * (which JSON lacks) as null, FP16 as the numbers of its half-precision bit patterns.
 */
export function tensorToJsonText(tensor: Tensor, parameters?: Record<string, unknown>): string {
  const values = tensor.data as ArrayLike<unknown>;
  let data: string;
  if (tensor.datatype === 'INT64' || tensor.datatype === 'UINT64') data = `[${Array.from(values, (value) => BigInt(value as bigint).toString()).join(',')}]`;
  else if (tensor.datatype === 'BYTES') data = JSON.stringify(Array.from(values, (value) => (typeof value === 'string' ? value : utf8Decoder.decode(value as Uint8Array))));
  else if (tensor.datatype === 'BOOL') data = JSON.stringify(Array.from(values, Boolean));
  else data = JSON.stringify(Array.from(values as ArrayLike<number>, Number));
  const head = JSON.stringify({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, ...(parameters ? { parameters } : {}) });
  return `${head.slice(0, -1)},"data":${data}}`;
}
