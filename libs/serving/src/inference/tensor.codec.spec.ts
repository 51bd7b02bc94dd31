import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '@trellis/platform';
import type { TensorDatatype } from '@trellis/plugin-sdk';
import { InferTensorContentsSchema } from '@trellis/proto';
import { tensorFromContents, tensorFromJson, tensorFromRaw, tensorToContents, tensorToJsonText, tensorToRaw } from './tensor.codec';

/** Three elements of each datatype, with their raw little-endian bytes written out by hand. */
const SAMPLES: Record<TensorDatatype, { data: unknown[]; raw: number[] }> = {
  BOOL: { data: [true, false, true], raw: [1, 0, 1] },
  UINT8: { data: [0, 7, 255], raw: [0, 7, 255] },
  UINT16: { data: [0, 513, 65535], raw: [0, 0, 1, 2, 255, 255] },
  UINT32: { data: [1, 70000, 4294967295], raw: [1, 0, 0, 0, 0x70, 0x11, 1, 0, 255, 255, 255, 255] },
  UINT64: { data: [0n, 1n << 40n, 2n ** 64n - 1n], raw: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, ...Array(8).fill(255)] },
  INT8: { data: [-128, 0, 127], raw: [0x80, 0, 0x7f] },
  INT16: { data: [-32768, 258, 32767], raw: [0, 0x80, 2, 1, 0xff, 0x7f] },
  INT32: { data: [-1, 5, 2147483647], raw: [255, 255, 255, 255, 5, 0, 0, 0, 255, 255, 255, 0x7f] },
  INT64: { data: [-(2n ** 63n), 5n, -1n], raw: [0, 0, 0, 0, 0, 0, 0, 0x80, 5, 0, 0, 0, 0, 0, 0, 0, ...Array(8).fill(255)] },
  FP16: { data: [0x3c00, 0xc000, 0x7bff], raw: [0, 0x3c, 0, 0xc0, 0xff, 0x7b] },
  FP32: { data: [1.5, -0.25, 0], raw: [0, 0, 0xc0, 0x3f, 0, 0, 0x80, 0xbe, 0, 0, 0, 0] },
  FP64: { data: [1, -2, 0.5], raw: [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f] },
  BYTES: { data: ['a', '', 'hé'], raw: [1, 0, 0, 0, 0x61, 0, 0, 0, 0, 3, 0, 0, 0, 0x68, 0xc3, 0xa9] },
};
const DATATYPES = Object.keys(SAMPLES) as TensorDatatype[];
const header = (datatype: TensorDatatype, shape: number[] = [3]) => ({ name: 'x', datatype, shape });
const plain = (data: ArrayLike<unknown>) => Array.from(data, (value) => (value instanceof Uint8Array ? Buffer.from(value).toString() : value));

describe('tensor codec', () => {
  it.each(DATATYPES)('reads and writes %s as raw little-endian bytes', (datatype) => {
    const { data, raw } = SAMPLES[datatype];
    const tensor = tensorFromRaw(header(datatype), new Uint8Array(raw));
    expect(plain(tensor.data)).toEqual(data);
    expect(Array.from(tensorToRaw(tensor))).toEqual(raw);
  });

  it.each(DATATYPES.filter((datatype) => datatype !== 'FP16'))('reads and writes %s as typed contents, through the wire', (datatype) => {
    const tensor = tensorFromRaw(header(datatype), new Uint8Array(SAMPLES[datatype].raw));
    const contents = create(InferTensorContentsSchema, tensorToContents(tensor));
    const back = tensorFromContents(header(datatype), contents);
    expect(plain(back.data)).toEqual(SAMPLES[datatype].data);
    expect(back.data.constructor).toBe(tensor.datatype === 'BOOL' || tensor.datatype === 'BYTES' ? Array : tensor.data.constructor);
  });

  it.each(DATATYPES.filter((datatype) => datatype !== 'FP16'))('reads %s from nested JSON and writes it flat', (datatype) => {
    const json = SAMPLES[datatype].data.map((value) => (typeof value === 'bigint' ? value.toString() : value));
    const tensor = tensorFromJson(header(datatype, [1, 3]), [json]);
    expect(plain(tensor.data)).toEqual(SAMPLES[datatype].data);
    const text = tensorToJsonText(tensor);
    expect(text).toContain(`"shape":[1,3]`);
    if (datatype === 'INT64') expect(text).toContain('"data":[-9223372036854775808,5,-1]');
    if (datatype === 'UINT64') expect(text).toContain('"data":[0,1099511627776,18446744073709551615]');
    if (datatype === 'BYTES') expect(JSON.parse(text).data).toEqual(['a', '', 'hé']);
  });

  it('reads raw bytes that sit unaligned in the request buffer', () => {
    const buffer = new Uint8Array([9, ...SAMPLES.FP32.raw]);
    expect(Array.from(tensorFromRaw(header('FP32'), buffer.subarray(1)).data)).toEqual([1.5, -0.25, 0]);
  });

  it('refuses raw bytes that do not add up to the shape, naming the input and both sizes', () => {
    expect(() => tensorFromRaw(header('FP32', [2, 2]), new Uint8Array(12))).toThrow(
      new InvalidArgumentError('input "x" has shape [2, 2] of FP32, 16 bytes, but its raw contents are 12 bytes'),
    );
    expect(() => tensorFromRaw(header('BYTES', [2]), new Uint8Array([5, 0, 0, 0, 1]))).toThrow('input "x" is BYTES: element 0 is 5 bytes long, past the end of its raw contents');
    expect(() => tensorFromRaw(header('BYTES', [1]), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]))).toThrow('input "x" has shape [1], 1 element, but holds 2');
  });

  it('refuses contents in the wrong field, of the wrong count or out of range, naming the input', () => {
    expect(() => tensorFromContents(header('FP32'), create(InferTensorContentsSchema, { fp64Contents: [1, 2, 3] }))).toThrow(
      'input "x" is FP32: its elements go in fp32_contents, not fp64_contents',
    );
    expect(() => tensorFromContents(header('INT32', [2, 3]), create(InferTensorContentsSchema, { intContents: [1, 2] }))).toThrow('input "x" has shape [2, 3], 6 elements, but holds 2');
    expect(() => tensorFromContents(header('UINT8'), create(InferTensorContentsSchema, { uintContents: [1, 256, 3] }))).toThrow('input "x" is UINT8: element 1 is 256, outside [0, 255]');
    expect(() => tensorFromContents(header('FP16'), undefined)).toThrow('input "x" is FP16, which has no typed contents: send it in raw_input_contents');
  });

  it('refuses JSON elements of the wrong type, and FP16, which JSON cannot carry', () => {
    expect(() => tensorFromJson(header('INT8'), [1, 2.5, 3])).toThrow('input "x" is INT8: element 1 must be an integer in [-128, 127]');
    expect(() => tensorFromJson(header('BOOL'), [true, 1, false])).toThrow('input "x" is BOOL: element 1 must be true or false');
    expect(() => tensorFromJson(header('INT64'), ['1', 'x', '3'])).toThrow(/element 1 must be an integer/);
    expect(() => tensorFromJson(header('FP32', [2, 2]), [[1, 2], [3]])).toThrow('input "x" has shape [2, 2], 4 elements, but holds 3');
    expect(() => tensorFromJson(header('FP16'), [1, 2, 3])).toThrow(/FP16, which has no JSON form/);
  });
});
