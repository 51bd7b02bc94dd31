import type { DriftColumn } from '@trellis/plugin-sdk';
import { categoryCounts, readFiniteNumbers, sum, totalWeight, type WeightedValues } from '../columns';
import { selectRanks } from '../select';
import { unionOf, type DriftMethod, type FitInput, type MethodResult } from './method';

const BINS = 10;
/** Evidently's stand-in share for an empty bin: 1e-4, or a millionth of the smallest share when that is smaller. */
const EMPTY_SHARE = 1e-4;

type PsiState = { cuts: number[]; shares: number[] } | { counts: Record<string, number> };

/** numpy's linear quantiles of weighted values at `ps` (exact for integer weights: the values repeated). */
function quantiles(distribution: WeightedValues, ps: readonly number[]): number[] {
  const { values, weights } = distribution;
  // cumulative[i]: the weight of values[0..i]; a rank's value is the first whose cumulative weight passes it.
  const cumulative = weights === null ? null : new Float64Array(weights.length);
  let seen = 0;
  if (weights && cumulative) for (let i = 0; i < weights.length; i++) cumulative[i] = seen += weights[i];
  const valueAt = (rank: number): number => {
    if (!cumulative) return values[Math.min(rank, values.length - 1)];
    let [low, high] = [0, cumulative.length - 1];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid] > rank) high = mid;
      else low = mid + 1;
    }
    return values[low];
  };
  const total = totalWeight(distribution);
  return ps.map((p) => {
    const at = p * (total - 1);
    const low = Math.floor(at);
    return valueAt(low) + (at - low) * (valueAt(low + 1) - valueAt(low));
  });
}

/** numpy's linear quantiles of raw values at `ps`, selecting the ranks they read rather than sorting (`values` is reordered). */
function rawQuantiles(values: Float64Array, ps: readonly number[]): number[] {
  const at = ps.map((p) => p * (values.length - 1));
  selectRanks(
    values,
    at.flatMap((rank) => [Math.floor(rank), Math.floor(rank) + 1]),
  );
  const valueAt = (rank: number) => values[Math.min(rank, values.length - 1)];
  return at.map((rank) => {
    const low = Math.floor(rank);
    return valueAt(low) + (rank - low) * (valueAt(low + 1) - valueAt(low));
  });
}

/** Shares of values per bin: below the first cut, between each two, from the last on. */
function binShares(cuts: readonly number[], values: Float64Array, weights: Float64Array | null = null): number[] {
  const bounds = Float64Array.from(cuts);
  const m = bounds.length;
  const counts = new Float64Array(m + 1);
  if (weights === null) {
    // A value's bin is how many cuts are at or below it: counted without branches, which a binary search of ten bins mispredicts.
    const integers = new Int32Array(m + 1);
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      let bin = 0;
      for (let c = 0; c < m; c++) bin += +(bounds[c] <= value);
      integers[bin] += 1;
    }
    counts.set(integers);
  } else {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      let bin = 0;
      for (let c = 0; c < m; c++) bin += +(bounds[c] <= value);
      counts[bin] += weights[i];
    }
  }
  const shares = Array.from(counts);
  const total = sum(shares);
  return shares.map((c) => c / total);
}

function fillEmpty(shares: number[]): number[] {
  const smallest = Math.min(...shares.filter((s) => s > 0));
  const filler = smallest <= EMPTY_SHARE ? smallest / 1e6 : EMPTY_SHARE;
  return shares.map((s) => (s === 0 ? filler : s));
}

function psi(reference: number[], current: number[]): number {
  const [r, c] = [fillEmpty(reference), fillEmpty(current)];
  return sum(r.map((ri, i) => (ri - c[i]) * Math.log(ri / c[i])));
}

/** The population stability index over ten reference-quantile bins (numeric) or the categories (categorical), with Evidently's empty-bin share. */
export const psiMethod: DriftMethod = {
  columnTypes: ['numeric', 'categorical'],
  summaries: ['quantiles', 'histogram', 'categories'],
  measures: 'distance',
  defaultThreshold: 0.1,
  fit(input: FitInput): PsiState {
    if (input.type === 'categorical') return { counts: input.counts };
    const deciles = Array.from({ length: BINS - 1 }, (_, i) => (i + 1) / BINS);
    if ('raw' in input) {
      const cuts = [...new Set(rawQuantiles(input.raw, deciles))];
      return { cuts, shares: binShares(cuts, input.raw) };
    }
    const cuts = [...new Set(quantiles(input.spread, deciles))];
    return { cuts, shares: binShares(cuts, input.spread.values, input.spread.weights) };
  },
  score(state: unknown, current: DriftColumn): MethodResult {
    const psiState = state as PsiState;
    let value: number;
    if ('cuts' in psiState) value = psi(psiState.shares, binShares(psiState.cuts, readFiniteNumbers(current, 'current')));
    else {
      const observed = categoryCounts(current, 'current');
      const keys = unionOf(psiState.counts, observed);
      const [refTotal, curTotal] = [sum(Object.values(psiState.counts)), sum(Object.values(observed))];
      value = psi(
        keys.map((key) => (psiState.counts[key] ?? 0) / refTotal),
        keys.map((key) => (observed[key] ?? 0) / curTotal),
      );
    }
    return { statistic: value, value };
  },
};
