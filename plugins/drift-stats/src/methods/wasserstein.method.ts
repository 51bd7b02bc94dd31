import type { DriftColumn } from '@trellis/plugin-sdk';
import { sortedNumbers, walkCdfs, type WeightedValues } from '../columns';
import type { DriftMethod, FitInput, MethodResult } from './method';

/** The smallest spread Evidently divides by, so a constant reference does not divide by 0. */
const MIN_SPREAD = 0.001;

interface WassersteinState {
  distribution: WeightedValues;
  spread: number;
}

/** The population standard deviation of weighted values (numpy's `std`, ddof 0). */
function spreadOf({ values, weights }: WeightedValues): number {
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = values.reduce((acc, v, i) => acc + v * weights[i], 0) / total;
  return Math.sqrt(values.reduce((acc, v, i) => acc + weights[i] * (v - mean) ** 2, 0) / total);
}

/** ∫ |F_reference - F_current| dx over the merged support (`scipy.stats.wasserstein_distance`). */
function wassersteinDistance(reference: WeightedValues, current: Float64Array): number {
  let [area, previous, gap] = [0, Number.NaN, 0];
  walkCdfs(reference, current, (x, referenceCdf, currentCdf) => {
    if (!Number.isNaN(previous)) area += gap * (x - previous);
    [previous, gap] = [x, Math.abs(referenceCdf - currentCdf)];
  });
  return area;
}

/** Evidently's normed Wasserstein distance: the distance divided by the reference's standard deviation (at least 0.001). */
export const wassersteinMethod: DriftMethod = {
  columnTypes: ['numeric'],
  summaries: ['quantiles', 'histogram'],
  measures: 'distance',
  defaultThreshold: 0.1,
  fit: (input: FitInput): WassersteinState | undefined => (input.type === 'numeric' ? { distribution: input.distribution, spread: spreadOf(input.distribution) } : undefined),
  score(state: unknown, current: DriftColumn): MethodResult {
    const { distribution, spread } = state as WassersteinState;
    const value = wassersteinDistance(distribution, sortedNumbers(current, 'current')) / Math.max(spread, MIN_SPREAD);
    return { statistic: value, value };
  },
};
