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

/**
 * The `index`th element of each row of `tensor` as a column of `kind`, `rows` long. A truncated
 * tensor, raw bytes that do not add up to its shape, an index past its width, NaN and infinities
 * are missing values: a log of a prediction is never refused for what it holds.
 */
export function columnOf(tensor: RawTensor | undefined, index: number, kind: ColumnKindName, rows: number): ColumnValues {
  const missing = (): ColumnValues => (kind === 'numeric' ? { kind, values: new Float64Array(rows).fill(NaN) } : { kind, values: new Array<string | null>(rows).fill(null) });
  if (!tensor || tensor.truncated || rowsOf(tensor) !== rows) return missing();
  const width = widthOf(tensor);
  if (index < 0 || index >= width) return missing();
  const count = rows * width;
  if (tensor.datatype === 'BYTES') {
    const elements = splitBytes(tensor.rawContents, count);
    if (!elements) return missing();
    const strings = new Array<string | null>(rows);
    for (let row = 0; row < rows; row++) strings[row] = elements[row * width + index];
    if (kind === 'categorical') return { kind, values: strings };
    const numbers = new Float64Array(rows);
    for (let row = 0; row < rows; row++) numbers[row] = finiteOrNaN(strings[row] === '' ? NaN : Number(strings[row]));
    return { kind, values: numbers };
  }
  const fixed = FIXED[tensor.datatype];
  if (!fixed || tensor.rawContents.byteLength !== count * fixed.size) return missing();
  const numbers = numericColumn(tensor, fixed, count, width, index, rows);
  if (kind === 'numeric') return { kind, values: numbers };
  const boolean = tensor.datatype === 'BOOL';
  const strings = new Array<string | null>(rows);
  for (let row = 0; row < rows; row++) strings[row] = Number.isNaN(numbers[row]) ? null : boolean ? String(numbers[row] !== 0) : String(numbers[row]);
  return { kind, values: strings };
}

/** Every `width`th element from `index` as float64, non-finite ones NaN. */
function numericColumn(tensor: RawTensor, fixed: (typeof FIXED)[string], count: number, width: number, index: number, rows: number): Float64Array {
  const bytes = tensor.rawContents;
  const out = new Float64Array(rows);
  if (!fixed.array) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let row = 0; row < rows; row++) out[row] = finiteOrNaN(halfToFloat(view.getUint16((row * width + index) * 2, true)));
    return out;
  }
  // Typed arrays need their offset aligned to the element size: copy the bytes when they are not
  // (into a buffer of their own: a Node Buffer's slice is a view of the same memory).
  const aligned = bytes.byteOffset % fixed.size === 0 ? bytes : new Uint8Array(bytes);
  const array = new fixed.array(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
  if (array instanceof BigInt64Array || array instanceof BigUint64Array) {
    for (let row = 0; row < rows; row++) out[row] = Number(array[row * width + index]);
    return out;
  }
  if (width === 1 && (array instanceof Float64Array || array instanceof Float32Array)) out.set(array);
  else for (let row = 0; row < rows; row++) out[row] = array[row * width + index];
  if (array instanceof Float64Array || array instanceof Float32Array) {
    for (let row = 0; row < rows; row++) if (!Number.isFinite(out[row])) out[row] = NaN;
  }
  return out;
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
