import type { DriftColumn, DriftMeasure } from '@trellis/plugin-sdk';
import { categoryCounts, sum } from '../columns';
import { chiSquareSurvival, normalSurvival } from '../special';
import { unionOf, type DriftMethod, type FitInput, type MethodResult } from './method';

/** A categorical method: `compute` sees the reference's counts, the window's, and the categories of either. */
function categoricalMethod(
  measures: DriftMeasure,
  defaultThreshold: number,
  compute: (reference: Record<string, number>, observed: Record<string, number>, keys: string[]) => MethodResult,
): DriftMethod {
  return {
    columnTypes: ['categorical'],
    summaries: ['categories'],
    measures,
    defaultThreshold,
    fit: (input: FitInput) => (input.type === 'categorical' ? input.counts : undefined),
    score(state: unknown, current: DriftColumn): MethodResult {
      const reference = state as Record<string, number>;
      const observed = categoryCounts(current, 'current');
      return compute(reference, observed, unionOf(reference, observed));
    },
  };
}

/** Evidently's chi-square test: `scipy.stats.chisquare` of the window's counts against the reference's, scaled to the window's total. */
export const chiSquareMethod = categoricalMethod('p-value', 0.05, (reference, observed, keys) => {
  if (keys.length < 2) return { statistic: 0, value: 1 };
  // A category the reference never had is expected 0 times: infinitely unlikely, p = 0.
  if (keys.some((key) => !(key in reference))) return { statistic: Number.MAX_VALUE, value: 0 };
  const scale = sum(Object.values(observed)) / sum(Object.values(reference));
  const statistic = sum(keys.map((key) => ((observed[key] ?? 0) - reference[key] * scale) ** 2 / (reference[key] * scale)));
  return { statistic, value: chiSquareSurvival(statistic, keys.length - 1) };
});

/** Evidently's two-sided Z-test for the difference of two proportions, on a column of at most two categories. */
export const zTestMethod = categoricalMethod('p-value', 0.05, (reference, observed, keys) => {
  if (keys.length > 2) throw new RangeError(`the z-test compares binary columns; the reference and window hold ${keys.length} categories (${keys.slice(0, 5).join(', ')})`);
  if (keys.length < 2) return { statistic: 0, value: 1 };
  const [n1, n2] = [sum(Object.values(reference)), sum(Object.values(observed))];
  const [p1, p2] = [(reference[keys[0]] ?? 0) / n1, (observed[keys[0]] ?? 0) / n2];
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, value: 2 * normalSurvival(Math.abs(statistic)) };
});

/** Σ p·ln(p/m) over the entries where p > 0 (`scipy.special.rel_entr`, summed). */
function relativeEntropy(p: readonly number[], m: readonly number[]): number {
  return sum(p.map((pi, i) => (pi > 0 ? pi * Math.log(pi / m[i]) : 0)));
}

/** `scipy.spatial.distance.jensenshannon` (natural log) of the two category frequency vectors, as Evidently computes it. */
export const jensenShannonMethod = categoricalMethod('distance', 0.1, (reference, observed, keys) => {
  const [refTotal, curTotal] = [sum(Object.values(reference)), sum(Object.values(observed))];
  const p = keys.map((key) => (reference[key] ?? 0) / refTotal);
  const q = keys.map((key) => (observed[key] ?? 0) / curTotal);
  const m = p.map((pi, i) => (pi + q[i]) / 2);
  const value = Math.sqrt(Math.max(0, (relativeEntropy(p, m) + relativeEntropy(q, m)) / 2));
  return { statistic: value, value };
});
