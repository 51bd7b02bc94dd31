import { columnOf, readColumns, rowsOf, type ColumnTarget, type RawTensor } from './tensor-columns';

const raw = (datatype: string, shape: number[], bytes: ArrayBufferView | Uint8Array, truncated = false): RawTensor => ({
  name: 't',
  datatype,
  shape,
  rawContents: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  truncated,
});

/** BYTES elements as OIP raw bytes: each a 4-byte little-endian length, then its UTF-8 bytes. */
function bytesTensor(shape: number[], elements: string[]): RawTensor {
  const parts = elements.map((element) => Buffer.from(element, 'utf8'));
  const out = Buffer.alloc(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, at);
    part.copy(out, at + 4);
    at += 4 + part.length;
  }
  return raw('BYTES', shape, out);
}

describe('columnOf', () => {
  it('reads a one-dimensional FP32 tensor, NaN and infinities as missing', () => {
    const column = columnOf(raw('FP32', [4], new Float32Array([1.5, NaN, Infinity, -2])), 0, 'numeric', 4);
    expect(Array.from(column.values as Float64Array)).toEqual([1.5, NaN, NaN, -2]);
  });

  it('reads the index-th column of a [rows, k] tensor', () => {
    const tensor = raw('FP64', [3, 2], new Float64Array([1, 10, 2, 20, 3, 30]));
    expect(Array.from(columnOf(tensor, 1, 'numeric', 3).values as Float64Array)).toEqual([10, 20, 30]);
    expect(Array.from(columnOf(tensor, 0, 'numeric', 3).values as Float64Array)).toEqual([1, 2, 3]);
  });

  it('reads integers of every width, INT64 included, from bytes that do not start aligned', () => {
    const ints = new BigInt64Array([5n, -7n]);
    const shifted = new Uint8Array(17);
    shifted.set(new Uint8Array(ints.buffer), 1);
    const tensor: RawTensor = { name: 'i', datatype: 'INT64', shape: [2], rawContents: shifted.subarray(1), truncated: false };
    expect(Array.from(columnOf(tensor, 0, 'numeric', 2).values as Float64Array)).toEqual([5, -7]);
    // A Node Buffer at an odd offset of its pool, as decoded messages hold them.
    const pooled = Buffer.concat([Buffer.from([0]), Buffer.from(new Float64Array([2.5, -1]).buffer)]).subarray(1);
    expect(Array.from(columnOf({ ...tensor, datatype: 'FP64', rawContents: pooled }, 0, 'numeric', 2).values as Float64Array)).toEqual([2.5, -1]);
    expect(Array.from(columnOf(raw('UINT16', [2], new Uint16Array([65535, 3])), 0, 'numeric', 2).values as Float64Array)).toEqual([65535, 3]);
    expect(Array.from(columnOf(raw('INT8', [2], new Int8Array([-128, 4])), 0, 'numeric', 2).values as Float64Array)).toEqual([-128, 4]);
  });

  it('reads FP16 halves', () => {
    // 1.0, -2.0, 0.5 and +Infinity in IEEE 754 half precision.
    const column = columnOf(raw('FP16', [4], new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7c00])), 0, 'numeric', 4);
    expect(Array.from(column.values as Float64Array)).toEqual([1, -2, 0.5, NaN]);
  });

  it('reads BYTES as categories and BOOL as true/false', () => {
    expect(columnOf(bytesTensor([3], ['red', '', 'grün']), 0, 'categorical', 3).values).toEqual(['red', '', 'grün']);
    expect(columnOf(bytesTensor([2, 2], ['a', 'b', 'c', 'd']), 1, 'categorical', 2).values).toEqual(['b', 'd']);
    expect(columnOf(raw('BOOL', [3], new Uint8Array([1, 0, 2])), 0, 'categorical', 3).values).toEqual(['true', 'false', 'true']);
  });

  it('gives integers as categories when the column is categorical', () => {
    expect(columnOf(raw('INT32', [2], new Int32Array([3, 1])), 0, 'categorical', 2).values).toEqual(['3', '1']);
  });

  it('gives missing values for a truncated tensor, bytes that do not match the shape, and an absent tensor', () => {
    expect(Array.from(columnOf(raw('FP32', [2], new Uint8Array(0), true), 0, 'numeric', 2).values as Float64Array)).toEqual([NaN, NaN]);
    expect(Array.from(columnOf(raw('FP32', [2], new Float32Array([1])), 0, 'numeric', 2).values as Float64Array)).toEqual([NaN, NaN]);
    expect(columnOf(undefined, 0, 'categorical', 2).values).toEqual([null, null]);
    expect(columnOf({ ...bytesTensor([2], ['a', 'b']), rawContents: bytesTensor([2], ['a', 'b']).rawContents.subarray(0, 6) }, 0, 'categorical', 2).values).toEqual([null, null]);
  });

  it('writes several columns of one tensor into their arrays at an offset, a missing tensor as missing values', () => {
    const numbers = new Float64Array(4).fill(-1);
    const names = new Array<string | null>(4).fill('untouched');
    const targets: ColumnTarget[] = [
      { index: 1, kind: 'numeric', values: numbers },
      { index: 0, kind: 'categorical', values: names },
    ];
    readColumns(bytesTensor([2, 2], ['a', '1.5', 'b', 'x']), targets, 1, 2);
    expect(Array.from(numbers)).toEqual([-1, 1.5, NaN, -1]);
    expect(names).toEqual(['untouched', 'a', 'b', 'untouched']);
    readColumns(undefined, targets, 3, 1);
    expect(numbers[3]).toBeNaN();
    expect(names[3]).toBeNull();
  });

  it('counts rows by the first dimension', () => {
    expect(rowsOf({ shape: [7, 3] })).toBe(7);
    expect(rowsOf({ shape: [] })).toBe(1);
    expect(rowsOf({ shape: [2n] })).toBe(2);
  });
});
