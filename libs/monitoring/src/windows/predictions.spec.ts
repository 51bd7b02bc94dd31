import type { StoredPerformance } from '../monitors/monitor.entity';
import { predictionsOf } from './predictions';
import type { RawTensor } from './tensor-columns';

const classification: StoredPerformance = { task: 'classification', predictionTensor: '', positiveClass: '1', decisionThreshold: 0 };
const tensor = (name: string, datatype: string, shape: number[], data: ArrayBufferView): RawTensor => ({
  name,
  datatype,
  shape,
  rawContents: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  truncated: false,
});

describe('predictionsOf', () => {
  it('predicts the index of the largest value of a [rows, k] tensor', () => {
    const probabilities = tensor('probs', 'FP32', [3, 3], new Float32Array([0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.1, 0.2, 0.7]));
    expect(predictionsOf(classification, [probabilities], 3)).toEqual(['1', '0', '2']);
  });

  it('turns a float score into 1 at the decision threshold or above, 0 below (0.5 when unset)', () => {
    const scores = tensor('score', 'FP64', [4], new Float64Array([0.49, 0.5, 0.9, NaN]));
    expect(predictionsOf(classification, [scores], 4)).toEqual(['0', '1', '1', undefined]);
    expect(predictionsOf({ ...classification, decisionThreshold: 0.95 }, [scores], 4)).toEqual(['0', '0', '0', undefined]);
  });

  it('takes integers as classes as they are, and reads the tensor the spec names', () => {
    const other = tensor('score', 'FP32', [2], new Float32Array([0.1, 0.9]));
    const labels = tensor('label', 'INT64', [2], new BigInt64Array([3n, 7n]));
    expect(predictionsOf({ ...classification, predictionTensor: 'label' }, [other, labels], 2)).toEqual(['3', '7']);
  });

  it('predicts the number for a regression, and nothing from a truncated tensor', () => {
    const values = tensor('y', 'FP32', [2], new Float32Array([1.5, 42]));
    expect(predictionsOf({ ...classification, task: 'regression' }, [values], 2)).toEqual([1.5, 42]);
    expect(predictionsOf({ ...classification, task: 'regression' }, [{ ...values, truncated: true, rawContents: new Uint8Array(0) }], 2)).toEqual([undefined, undefined]);
  });
});
