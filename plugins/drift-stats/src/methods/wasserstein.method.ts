import type { DriftColumn } from '@trellis/plugin-sdk';
import { compareCdfs, loadWeighted, sortedNumbers, storeWeighted, totalWeight, type StoredWeightedValues, type WeightedValues } from '../columns';
import { distributionOf, type DriftMethod, type FitInput, type MethodResult } from './method';

/** The smallest spread Evidently divides by, so a constant reference does not divide by 0. */
const MIN_SPREAD = 0.001;

interface WassersteinState {
  distribution: StoredWeightedValues;
  spread: number;
}

/** The population standard deviation of weighted values (numpy's `std`, ddof 0). */
function spreadOf(distribution: WeightedValues): number {
  const { values, weights } = distribution;
  const total = totalWeight(distribution);
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i] * (weights === null ? 1 : weights[i]);
  mean /= total;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (weights === null ? 1 : weights[i]) * (values[i] - mean) ** 2;
  return Math.sqrt(squares / total);
}

/** Evidently's normed Wasserstein distance: `scipy.stats.wasserstein_distance` (the area between the CDFs) divided by the reference's standard deviation (at least 0.001). */
export const wassersteinMethod: DriftMethod = {
  columnTypes: ['numeric'],
  summaries: ['quantiles', 'histogram'],
  measures: 'distance',
  defaultThreshold: 0.1,
  fit(input: FitInput): WassersteinState | undefined {
    if (input.type !== 'numeric') return undefined;
    const distribution = distributionOf(input);
    return { distribution: storeWeighted(distribution), spread: spreadOf(distribution) };
  },
  score(state: unknown, current: DriftColumn): MethodResult {
    const { distribution, spread } = state as WassersteinState;
    const value = compareCdfs(loadWeighted(distribution), sortedNumbers(current, 'current')).area / Math.max(spread, MIN_SPREAD);
    return { statistic: value, value };
  },
};
