import { checkSummaryCounts, summaryKnots, type CategoryCountsSummary, type DriftColumn, type HistogramSummary, type QuantileSummary } from '@trellis/plugin-sdk';
import { sortFinite } from './radix-sort';

/** A numeric distribution as distinct ascending values with their weights (counts, or shares of a summary's count). */
export interface WeightedValues {
  values: Float64Array;
  /** The weight of each value; `null` when every weight is 1 (raw values without ties). */
  weights: Float64Array | null;
  /** How many values it stands for (the sample size of a test). */
  count: number;
}

/** A `WeightedValues` as plain JSON: its arrays as base64 of their little-endian float64 bytes (exact, and a fraction of the size and time of number arrays). */
export interface StoredWeightedValues {
  values: string;
  /** Absent when every weight is 1. */
  weights?: string;
  count: number;
}

/** Points a summary's stretch between two quantiles (or a histogram bin) is spread over, evenly. */
const POINTS_PER_STRETCH = 16;

/** The column's values that are not missing; `RangeError` when there are none. */
function present<T>(values: ArrayLike<T | null>, which: string): T[] {
  const kept: T[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== null && values[i] !== undefined) kept.push(values[i] as T);
  if (kept.length === 0) throw new RangeError(`the ${which} window has no values that are not missing (${values.length} given)`);
  return kept;
}

/** The column's numbers that are not missing, copied; `RangeError` for one that is not finite, or for none. */
export function finiteNumbers(column: DriftColumn, which: string): Float64Array {
  const values = column.values as ArrayLike<number | null>;
  const kept = new Float64Array(values.length);
  let count = 0;
  if (values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value - value !== 0) throw new RangeError(`the ${which} window's value ${i} is ${String(value)}; numeric values are finite numbers or null`);
      kept[i] = value;
    }
    count = values.length;
  } else {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`the ${which} window's value ${i} is ${String(value)}; numeric values are finite numbers or null`);
      kept[count++] = value;
    }
  }
  if (count === 0) throw new RangeError(`the ${which} window has no values that are not missing (${values.length} given)`);
  return count === kept.length ? kept : kept.subarray(0, count);
}

/** The column's numbers that are not missing, to read and not to change: a Float64Array column itself once checked, otherwise a copy; `RangeError` as `finiteNumbers`. */
export function readFiniteNumbers(column: DriftColumn, which: string): Float64Array {
  const values = column.values;
  if (!(values instanceof Float64Array) || values.length === 0) return finiteNumbers(column, which);
  let check = 0;
  for (let i = 0; i < values.length; i++) check += values[i] - values[i];
  // check is NaN exactly when a value is NaN or infinite; finiteNumbers then names the first.
  return check === 0 ? values : finiteNumbers(column, which);
}

/** The column's numbers that are not missing, ascending; `RangeError` for one that is not finite, or for none. */
export function sortedNumbers(column: DriftColumn, which: string): Float64Array {
  return sortFinite(finiteNumbers(column, which));
}

/** Sorted numbers as distinct values with counts. */
export function weighSorted(sorted: Float64Array): WeightedValues {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct === sorted.length) return { values: sorted, weights: null, count: sorted.length };
  const values = new Float64Array(distinct);
  const weights = new Float64Array(distinct);
  let at = -1;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) values[++at] = sorted[i];
    weights[at] += 1;
  }
  return { values, weights, count: sorted.length };
}

/** The sum of the weights (the count when every weight is 1). */
export function totalWeight({ values, weights }: WeightedValues): number {
  if (!weights) return values.length;
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  return total;
}

const base64Of = (array: Float64Array): string => Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');

function float64sOf(text: unknown, field: string): Float64Array {
  if (typeof text !== 'string') throw new TypeError(`the reference's ${field} is not base64 of float64 values: fit the reference again`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 8 !== 0) throw new TypeError(`the reference's ${field} is not base64 of float64 values: fit the reference again`);
  // A Float64Array view needs an offset that is a multiple of 8; Buffer's pool does not promise one.
  return bytes.byteOffset % 8 === 0 ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8) : new Float64Array(new Uint8Array(bytes).buffer);
}

export function storeWeighted(distribution: WeightedValues): StoredWeightedValues {
  const stored: StoredWeightedValues = { values: base64Of(distribution.values), count: distribution.count };
  if (distribution.weights) stored.weights = base64Of(distribution.weights);
  return stored;
}

/** Decoded once per stored object: the monitoring service keeps a monitor's parsed references and scores every window against the same objects. */
const decoded = new WeakMap<StoredWeightedValues, WeightedValues>();

export function loadWeighted(stored: StoredWeightedValues): WeightedValues {
  let distribution = decoded.get(stored);
  if (!distribution) {
    distribution = { values: float64sOf(stored.values, 'values'), weights: stored.weights === undefined ? null : float64sOf(stored.weights, 'weights'), count: stored.count };
    decoded.set(stored, distribution);
  }
  return distribution;
}

/** How often each category occurs in the column (missing values left out). */
export function categoryCounts(column: DriftColumn, which: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of present(column.values as ArrayLike<string | null>, which)) {
    if (typeof value !== 'string') throw new RangeError(`the ${which} window holds ${String(value)}; categorical values are strings or null`);
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

/** A categories summary's counts, checked. */
export function summaryCounts(summary: CategoryCountsSummary): Record<string, number> {
  const counts = Object.values(summary.counts ?? {});
  checkSummaryCounts(counts, 'counts');
  return Object.fromEntries(Object.entries(summary.counts).filter(([, n]) => n > 0));
}

/** A quantile or histogram summary spread evenly between its points (linear CDF between them), checked. */
export function weighSummary(summary: QuantileSummary | HistogramSummary): WeightedValues {
  const knots = summaryKnots(summary);
  const count = summary.summary === 'quantiles' ? summary.count : sum(summary.counts);
  const values: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i < knots.length; i++) {
    const [from, to] = [knots[i - 1], knots[i]];
    const mass = (to.p - from.p) * count;
    if (mass <= 0) continue;
    for (let k = 0; k < POINTS_PER_STRETCH; k++) {
      values.push(from.x + ((k + 0.5) / POINTS_PER_STRETCH) * (to.x - from.x));
      weights.push(mass / POINTS_PER_STRETCH);
    }
  }
  return { values: Float64Array.from(values), weights: Float64Array.from(weights), count };
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** How two CDFs differ: the largest gap between them (KS D) and the area between them (Wasserstein-1). */
export interface CdfComparison {
  largestGap: number;
  area: number;
}

/** Walks the merged support of a reference and a sorted window once, comparing their CDFs at each distinct value. */
export function compareCdfs(reference: WeightedValues, current: Float64Array): CdfComparison {
  const { values, weights } = reference;
  const [m, n] = [values.length, current.length];
  const referenceTotal = totalWeight(reference);
  let [i, j, referenceSeen, currentSeen] = [0, 0, 0, 0];
  let [largestGap, area, previous, gap] = [0, 0, 0, 0];
  while (i < m || j < n) {
    const x = i < m && (j >= n || values[i] <= current[j]) ? values[i] : current[j];
    while (i < m && values[i] === x) {
      referenceSeen += weights === null ? 1 : weights[i];
      i++;
    }
    while (j < n && current[j] === x) {
      currentSeen++;
      j++;
    }
    area += gap * (x - previous);
    gap = Math.abs(referenceSeen / referenceTotal - currentSeen / n);
    if (gap > largestGap) largestGap = gap;
    previous = x;
  }
  return { largestGap, area };
}
