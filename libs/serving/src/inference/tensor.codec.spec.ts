import { create, fromBinary } from '@bufbuild/protobuf';
import { InvalidArgumentError, toWire } from '@trellis/platform';
import type { Tensor, TensorDatatype } from '@trellis/plugin-sdk';
import { InferTensorContentsSchema } from '@trellis/proto';
import { SAMPLES } from './tensor-samples.fixture';
import { tensorFromContents, tensorFromJson, tensorFromRaw, tensorToContents, tensorToJsonText, tensorToRaw } from './tensor.codec';

const DATATYPES = Object.keys(SAMPLES) as TensorDatatype[];
const header = (datatype: TensorDatatype, shape: number[] = [3]) => ({ name: 'x', datatype, shape });
const plain = (data: Tensor['data']) => Array.from(data as ArrayLike<unknown>, (value) => (value instanceof Uint8Array ? Buffer.from(value).toString() : value));

describe('tensor codec', () => {
  it.each(DATATYPES)('reads and writes %s as raw little-endian bytes', (datatype) => {
    const { data, raw } = SAMPLES[datatype];
    const tensor = tensorFromRaw(header(datatype), new Uint8Array(raw));
    expect(plain(tensor.data)).toEqual(data);
    expect(Array.from(tensorToRaw(tensor))).toEqual(raw);
  });

  it.each(DATATYPES.filter((datatype) => datatype !== 'FP16'))('reads and writes %s as typed contents, through the wire', (datatype) => {
    const tensor = tensorFromRaw(header(datatype), new Uint8Array(SAMPLES[datatype].raw));
    const contents = fromBinary(InferTensorContentsSchema, toWire(InferTensorContentsSchema, tensorToContents(tensor)));
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

  it('reads raw bytes that sit unaligned in the request buffer (a Buffer, whose slice() is a view)', () => {
    const buffer = Buffer.from([9, ...SAMPLES.FP32.raw]);
    expect(plain(tensorFromRaw(header('FP32'), buffer.subarray(1)).data)).toEqual([1.5, -0.25, 0]);
  });

  it.each(['FP32', 'BYTES'] as const)('gives a %s tensor read from part of a pooled request buffer bytes of its own, so a worker is posted only those', (datatype) => {
    const request = Buffer.from([1, 2, 3, ...SAMPLES[datatype].raw, 4]);
    expect(request.buffer.byteLength).toBeGreaterThan(request.byteLength);
    const tensor = tensorFromRaw(header(datatype), request.subarray(3, 3 + SAMPLES[datatype].raw.length));
    request.fill(0);
    expect(plain(tensor.data)).toEqual(SAMPLES[datatype].data);
    const buffers = new Set(datatype === 'BYTES' ? (tensor.data as Uint8Array[]).map((element) => element.buffer) : [(tensor.data as Float32Array).buffer]);
    expect([...buffers].map((buffer) => buffer.byteLength)).toEqual([SAMPLES[datatype].raw.length]);
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
