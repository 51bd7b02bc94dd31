import type { DriftColumn } from '@trellis/plugin-sdk';
import { sortedNumbers, type WeightedValues } from '../columns';
import { EXACT_MAX_SAMPLE, oneSampleSurvival, twoSampleExactSurvival } from '../kolmogorov';
import type { DriftMethod, FitInput, MethodResult } from './method';

/** The largest gap between the two empirical CDFs. */
function ksStatistic(reference: WeightedValues, current: Float64Array): number {
  const [refTotal, curTotal] = [reference.weights.reduce((a, b) => a + b, 0), current.length];
  let [i, j, refSeen, curSeen, gap] = [0, 0, 0, 0, 0];
  while (i < reference.values.length || j < current.length) {
    const x = Math.min(reference.values[i] ?? Infinity, current[j] ?? Infinity);
    while (i < reference.values.length && reference.values[i] === x) refSeen += reference.weights[i++];
    while (j < current.length && current[j] === x) {
      curSeen++;
      j++;
    }
    gap = Math.max(gap, Math.abs(refSeen / refTotal - curSeen / curTotal));
  }
  return gap;
}

/** The two-sample Kolmogorov-Smirnov test, as `scipy.stats.ks_2samp(method='auto')`: exact up to 10,000 values a side. */
export const ksMethod: DriftMethod = {
  columnTypes: ['numeric'],
  summaries: ['quantiles', 'histogram'],
  measures: 'p-value',
  defaultThreshold: 0.05,
  fit: (input: FitInput) => (input.type === 'numeric' ? input.distribution : undefined),
  score(state: unknown, current: DriftColumn): MethodResult {
    const reference = state as WeightedValues;
    const window = sortedNumbers(current, 'current');
    const statistic = ksStatistic(reference, window);
    const [n1, n2] = [reference.count, window.length];
    const value = Math.max(n1, n2) <= EXACT_MAX_SAMPLE ? twoSampleExactSurvival(n1, n2, statistic) : oneSampleSurvival(Math.round((n1 * n2) / (n1 + n2)), statistic);
    return { statistic, value };
  },
};
