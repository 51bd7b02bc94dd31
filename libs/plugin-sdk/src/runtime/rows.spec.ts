import type { Tensor } from '../contracts';
import { rowsOf, splitRows, stackRows } from './rows';

const fp32 = (shape: number[], values: number[]): Tensor => ({ name: 'x', datatype: 'FP32', shape, data: new Float32Array(values) });

describe('rowsOf', () => {
  it('keys calls by input names, datatypes, array classes and trailing dimensions, not by rows', () => {
    expect(rowsOf([fp32([2, 2], [1, 2, 3, 4])])).toEqual({ key: rowsOf([fp32([1, 2], [1, 2])])?.key, rows: 2 });
    const keys = [
      rowsOf([fp32([1, 2], [1, 2])]),
      rowsOf([{ ...fp32([1, 2], [1, 2]), name: 'y' }]),
      rowsOf([{ ...fp32([1, 2], [1, 2]), datatype: 'FP64' }]),
      rowsOf([{ ...fp32([1, 2], [1, 2]), data: new Float64Array([1, 2]) }]),
      rowsOf([fp32([1, 1, 2], [1, 2])]),
    ].map((rows) => rows?.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('leaves out what cannot be stacked: plain arrays, a length that is not the shape, rows that disagree, no inputs', () => {
    expect(rowsOf([{ ...fp32([1, 2], []), data: [1, 2] }])).toBeUndefined();
    expect(rowsOf([fp32([2, 2], [1, 2, 3])])).toBeUndefined();
    expect(rowsOf([fp32([1, 2], [1, 2]), { ...fp32([2, 1], [1, 2]), name: 'y' }])).toBeUndefined();
    expect(rowsOf([fp32([0, 2], [])])).toBeUndefined();
    expect(rowsOf([])).toBeUndefined();
  });
});

describe('stackRows and splitRows', () => {
  it('stacks calls along the first dimension and splits outputs back into each call rows', () => {
    const stacked = stackRows([[fp32([1, 2], [1, 2])], [fp32([2, 2], [3, 4, 5, 6])]]);
    expect(stacked.map((t) => ({ shape: t.shape, data: Array.from(t.data as Float32Array), array: t.data.constructor }))).toEqual([{ shape: [3, 2], data: [1, 2, 3, 4, 5, 6], array: Float32Array }]);
    const strings: Tensor = { name: 'label', datatype: 'BYTES', shape: [3], data: ['a', 'b', 'c'] };
    expect(splitRows([stacked[0], strings], [1, 2]).map((call) => call.map((t) => [t.shape, Array.from(t.data as ArrayLike<unknown>)]))).toEqual([
      [[[1, 2], [1, 2]], [[1], ['a']]],
      [[[2, 2], [3, 4, 5, 6]], [[2], ['b', 'c']]],
    ]);
  });

  it('refuses to split an output whose rows are not the rows stacked: such a model cannot be batched', () => {
    expect(() => splitRows([fp32([1, 2], [1, 2])], [1, 1])).toThrow('output "x" has 1 rows for a batch of 2: the model cannot be batched; load it with batching.maxBatchSize 1');
  });
});
