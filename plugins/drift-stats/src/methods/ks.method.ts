import type { DriftColumn } from '@trellis/plugin-sdk';
import { sortedNumbers, walkCdfs, type WeightedValues } from '../columns';
import { EXACT_MAX_SAMPLE, oneSampleSurvival, twoSampleExactSurvival } from '../kolmogorov';
import type { DriftMethod, FitInput, MethodResult } from './method';

/** The largest gap between the two empirical CDFs. */
function ksStatistic(reference: WeightedValues, current: Float64Array): number {
  let gap = 0;
  walkCdfs(reference, current, (_, referenceCdf, currentCdf) => {
    gap = Math.max(gap, Math.abs(referenceCdf - currentCdf));
  });
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
