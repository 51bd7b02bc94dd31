import type { DriftColumn } from '@trellis/plugin-sdk';
import { sortedNumbers, weighSorted, type WeightedValues } from '../columns';
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
function wassersteinDistance(reference: WeightedValues, current: WeightedValues): number {
  const refTotal = reference.weights.reduce((a, b) => a + b, 0);
  let [i, j, refSeen, curSeen, area] = [0, 0, 0, 0, 0];
  let previous = Math.min(reference.values[0], current.values[0]);
  while (i < reference.values.length || j < current.values.length) {
    const x = Math.min(reference.values[i] ?? Infinity, current.values[j] ?? Infinity);
    area += Math.abs(refSeen / refTotal - curSeen / current.count) * (x - previous);
    while (i < reference.values.length && reference.values[i] === x) refSeen += reference.weights[i++];
    while (j < current.values.length && current.values[j] === x) curSeen += current.weights[j++];
    previous = x;
  }
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
    const value = wassersteinDistance(distribution, weighSorted(sortedNumbers(current, 'current'))) / Math.max(spread, MIN_SPREAD);
    return { statistic: value, value };
  },
};
