import type { ColumnKindName } from '../monitors/monitor.entity';

/** A logged tensor as the prediction log carries it (PredictionLoggedEvent's LoggedTensor). */
export interface RawTensor {
  name: string;
  datatype: string;
  shape: readonly (number | bigint)[];
  rawContents: Uint8Array;
  truncated: boolean;
}

/** One column's values over a batch's rows: numbers with NaN for missing, or categories with null for missing. */
export type ColumnValues = { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: (string | null)[] };

type NumericArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Bytes per element and typed array of each fixed-size OIP datatype (BOOL one byte; FP16 decoded by hand). */
const FIXED: Readonly<Record<string, { size: number; array?: new (buffer: ArrayBuffer, offset: number, length: number) => NumericArray }>> = {
  BOOL: { size: 1, array: Uint8Array },
  UINT8: { size: 1, array: Uint8Array },
  UINT16: { size: 2, array: Uint16Array },
  UINT32: { size: 4, array: Uint32Array },
  UINT64: { size: 8, array: BigUint64Array },
  INT8: { size: 1, array: Int8Array },
  INT16: { size: 2, array: Int16Array },
  INT32: { size: 4, array: Int32Array },
  INT64: { size: 8, array: BigInt64Array },
  FP16: { size: 2 },
  FP32: { size: 4, array: Float32Array },
  FP64: { size: 8, array: Float64Array },
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** How many rows a tensor holds: its first dimension (a scalar is one row). */
export function rowsOf(tensor: Pick<RawTensor, 'shape'>): number {
  return tensor.shape.length === 0 ? 1 : Math.max(0, Number(tensor.shape[0]));
}

/** Elements per row: the product of the dimensions after the first. */
function widthOf(tensor: Pick<RawTensor, 'shape'>): number {
  let width = 1;
  for (let i = 1; i < tensor.shape.length; i++) width *= Number(tensor.shape[i]);
  return width;
}

/** Where one column of a tensor goes: its index in the tensor's rows, and the array it fills. */
export type ColumnTarget = { index: number } & ({ kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: (string | null)[] });

/** A tensor's elements read once: a typed view (numbers), the BYTES elements as text, or FP16 bits. */
type Decoded = { width: number; boolean: boolean } & ({ numbers: ArrayLike<number> | BigInt64Array | BigUint64Array } | { strings: string[] } | { halves: DataView });

/**
 * The `index`th element of each row of `tensor` as a column of `kind`, `rows` long. A truncated
 * tensor, raw bytes that do not add up to its shape, an index past its width, NaN and infinities
 * are missing values: a log of a prediction is never refused for what it holds.
 */
export function columnOf(tensor: RawTensor | undefined, index: number, kind: ColumnKindName, rows: number): ColumnValues {
  const target: ColumnTarget = kind === 'numeric' ? { index, kind, values: new Float64Array(rows) } : { index, kind, values: new Array<string | null>(rows) };
  readColumns(tensor, [target], 0, rows);
  return target.kind === 'numeric' ? { kind: 'numeric', values: target.values } : { kind: 'categorical', values: target.values };
}

/**
 * Writes each target's column of `tensor` (`rows` rows) into its array from position `at`,
 * reading the tensor's bytes once whatever the number of columns; missing values as `columnOf`.
 */
export function readColumns(tensor: RawTensor | undefined, targets: readonly ColumnTarget[], at: number, rows: number): void {
  const decoded = tensor && !tensor.truncated && rowsOf(tensor) === rows ? decode(tensor, rows) : undefined;
  for (const target of targets) {
    if (!decoded || target.index < 0 || target.index >= decoded.width) fillMissing(target, at, rows);
    else if (target.kind === 'numeric') readNumbers(decoded, target.index, target.values, at, rows);
    else readCategories(decoded, target.index, target.values, at, rows);
  }
}

function fillMissing(target: ColumnTarget, at: number, rows: number): void {
  if (target.kind === 'numeric') target.values.fill(NaN, at, at + rows);
  else target.values.fill(null, at, at + rows);
}

function decode(tensor: RawTensor, rows: number): Decoded | undefined {
  const width = widthOf(tensor);
  const count = rows * width;
  const boolean = tensor.datatype === 'BOOL';
  if (tensor.datatype === 'BYTES') {
    const strings = splitBytes(tensor.rawContents, count);
    return strings && { width, boolean, strings };
  }
  const fixed = FIXED[tensor.datatype];
  const bytes = tensor.rawContents;
  if (!fixed || bytes.byteLength !== count * fixed.size) return undefined;
  if (!fixed.array) return { width, boolean, halves: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  // Typed arrays need their offset aligned to the element size: copy the bytes when they are not
  // (into a buffer of their own: a Node Buffer's slice is a view of the same memory).
  const aligned = bytes.byteOffset % fixed.size === 0 ? bytes : new Uint8Array(bytes);
  return { width, boolean, numbers: new fixed.array(aligned.buffer as ArrayBuffer, aligned.byteOffset, count) };
}

function readNumbers(decoded: Decoded, index: number, out: Float64Array, at: number, rows: number): void {
  const { width } = decoded;
  if ('strings' in decoded) {
    for (let row = 0; row < rows; row++) {
      const text = decoded.strings[row * width + index];
      out[at + row] = text === '' ? NaN : finiteOrNaN(Number(text));
    }
  } else if ('halves' in decoded) {
    for (let row = 0; row < rows; row++) out[at + row] = finiteOrNaN(halfToFloat(decoded.halves.getUint16((row * width + index) * 2, true)));
  } else if (decoded.numbers instanceof BigInt64Array || decoded.numbers instanceof BigUint64Array) {
    for (let row = 0; row < rows; row++) out[at + row] = Number(decoded.numbers[row * width + index]);
  } else {
    const numbers = decoded.numbers as ArrayLike<number>;
    for (let row = 0; row < rows; row++) out[at + row] = finiteOrNaN(numbers[row * width + index]);
  }
}

function readCategories(decoded: Decoded, index: number, out: (string | null)[], at: number, rows: number): void {
  const { width } = decoded;
  if ('strings' in decoded) {
    for (let row = 0; row < rows; row++) out[at + row] = decoded.strings[row * width + index];
    return;
  }
  const numbers = new Float64Array(rows);
  readNumbers(decoded, index, numbers, 0, rows);
  for (let row = 0; row < rows; row++) {
    const value = numbers[row];
    out[at + row] = Number.isNaN(value) ? null : decoded.boolean ? String(value !== 0) : String(value);
  }
}

/** BYTES elements (4-byte little-endian length, then the bytes) as UTF-8 text; undefined when they do not add up to `count`. */
function splitBytes(bytes: Uint8Array, count: number): string[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: string[] = [];
  let at = 0;
  while (at + 4 <= bytes.byteLength && elements.length < count) {
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) return undefined;
    elements.push(utf8.decode(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return elements.length === count && at === bytes.byteLength ? elements : undefined;
}

function finiteOrNaN(value: number): number {
  return Number.isFinite(value) ? value : NaN;
}

/** An IEEE 754 half-precision float from its 16 bits. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
