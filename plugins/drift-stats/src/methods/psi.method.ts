import type { DriftColumn } from '@trellis/plugin-sdk';
import { categoryCounts, sortedNumbers, sum, type WeightedValues } from '../columns';
import { unionOf, type DriftMethod, type FitInput, type MethodResult } from './method';

const BINS = 10;
/** Evidently's stand-in share for an empty bin: 1e-4, or a millionth of the smallest share when that is smaller. */
const EMPTY_SHARE = 1e-4;

type PsiState = { cuts: number[]; shares: number[] } | { counts: Record<string, number> };

/** numpy's linear quantile of weighted values (exact for integer weights: the values repeated). */
function quantile({ values, weights }: WeightedValues, p: number): number {
  const at = p * (sum(weights) - 1);
  const valueAt = (rank: number) => {
    let seen = 0;
    for (let i = 0; i < values.length; i++) if ((seen += weights[i]) > rank) return values[i];
    return values[values.length - 1];
  };
  const low = Math.floor(at);
  return valueAt(low) + (at - low) * (valueAt(low + 1) - valueAt(low));
}

/** Shares of values per bin: below the first cut, between each two, from the last on. */
function binShares(cuts: readonly number[], values: ArrayLike<number>, weights?: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    let [low, high] = [0, cuts.length];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cuts[mid] <= values[i]) low = mid + 1;
      else high = mid;
    }
    counts[low] += weights?.[i] ?? 1;
  }
  const total = sum(counts);
  return counts.map((c) => c / total);
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
    const cuts = [...new Set(Array.from({ length: BINS - 1 }, (_, i) => quantile(input.distribution, (i + 1) / BINS)))];
    return { cuts, shares: binShares(cuts, input.distribution.values, input.distribution.weights) };
  },
  score(state: unknown, current: DriftColumn): MethodResult {
    const psiState = state as PsiState;
    let value: number;
    if ('cuts' in psiState) value = psi(psiState.shares, binShares(psiState.cuts, sortedNumbers(current, 'current')));
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
