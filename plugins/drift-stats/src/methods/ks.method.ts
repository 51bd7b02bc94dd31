import type { DriftColumn } from '@trellis/plugin-sdk';
import { compareCdfs, loadWeighted, sortedNumbers, storeWeighted, type StoredWeightedValues } from '../columns';
import { EXACT_MAX_SAMPLE, oneSampleSurvival, twoSampleExactSurvival } from '../kolmogorov';
import { distributionOf, type DriftMethod, type FitInput, type MethodResult } from './method';

/** The two-sample Kolmogorov-Smirnov test, as `scipy.stats.ks_2samp(method='auto')`: exact up to 10,000 values a side. */
export const ksMethod: DriftMethod = {
  columnTypes: ['numeric'],
  summaries: ['quantiles', 'histogram'],
  measures: 'p-value',
  defaultThreshold: 0.05,
  fit: (input: FitInput) => (input.type === 'numeric' ? storeWeighted(distributionOf(input)) : undefined),
  score(state: unknown, current: DriftColumn): MethodResult {
    const reference = loadWeighted(state as StoredWeightedValues);
    const window = sortedNumbers(current, 'current');
    const statistic = compareCdfs(reference, window).largestGap;
    const [n1, n2] = [reference.count, window.length];
    const value = Math.max(n1, n2) <= EXACT_MAX_SAMPLE ? twoSampleExactSurvival(n1, n2, statistic) : oneSampleSurvival(Math.round((n1 * n2) / (n1 + n2)), statistic);
    return { statistic, value };
  },
};
