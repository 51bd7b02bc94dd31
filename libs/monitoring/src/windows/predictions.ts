import type { StoredPerformance } from '../monitors/monitor.entity';
import { columnOf, rowsOf, type RawTensor } from './tensor-columns';

const FLOATS = new Set(['FP16', 'FP32', 'FP64']);

/**
 * Each row's prediction as PerformanceSpec describes it, undefined where the tensor has none
 * (truncated, missing, NaN): a classification predicts the index of the largest value of a
 * [rows, k > 1] tensor, "1" or "0" for a float score between 0 and 1 against the decision
 * threshold, and an integer or a string as it is; a regression predicts the number.
 */
export function predictionsOf(performance: StoredPerformance, outputs: readonly RawTensor[], rows: number): Array<string | number | undefined> {
  const tensor = performance.predictionTensor ? outputs.find((output) => output.name === performance.predictionTensor) : outputs[0];
  const none = new Array<string | number | undefined>(rows).fill(undefined);
  if (!tensor || tensor.truncated || rowsOf(tensor) !== rows) return none;
  const width = tensor.shape.slice(1).reduce<number>((product, dim) => product * Number(dim), 1);
  const classification = performance.task === 'classification';
  if (tensor.datatype === 'BYTES') {
    const values = columnOf(tensor, 0, classification ? 'categorical' : 'numeric', rows).values;
    return Array.from(values as ArrayLike<string | number | null>, (value) => (value === null || (typeof value === 'number' && Number.isNaN(value)) ? undefined : value));
  }
  if (classification && width > 1) {
    const columns = Array.from({ length: width }, (_, index) => columnOf(tensor, index, 'numeric', rows).values as Float64Array);
    return Array.from({ length: rows }, (_, row) => {
      let best = -1;
      for (let index = 0; index < width; index++) if (!Number.isNaN(columns[index][row]) && (best < 0 || columns[index][row] > columns[best][row])) best = index;
      return best < 0 ? undefined : String(best);
    });
  }
  const values = columnOf(tensor, 0, 'numeric', rows).values as Float64Array;
  const threshold = performance.decisionThreshold > 0 ? performance.decisionThreshold : 0.5;
  const score = FLOATS.has(tensor.datatype);
  return Array.from(values, (value) => {
    if (Number.isNaN(value)) return undefined;
    if (!classification) return value;
    if (score && value >= 0 && value <= 1) return value >= threshold ? '1' : '0';
    return String(value);
  });
}
