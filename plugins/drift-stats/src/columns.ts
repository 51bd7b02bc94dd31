import { checkSummaryCounts, summaryKnots, type CategoryCountsSummary, type DriftColumn, type HistogramSummary, type QuantileSummary } from '@trellis/plugin-sdk';

/** A numeric distribution as distinct ascending values with their weights (counts, or shares of a summary's count). */
export interface WeightedValues {
  values: number[];
  weights: number[];
  /** How many values it stands for (the sample size of a test). */
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

/** The column's numbers that are not missing, ascending; `RangeError` for one that is not finite, or for none. */
export function sortedNumbers(column: DriftColumn, which: string): Float64Array {
  const values = column.values as ArrayLike<number | null>;
  const kept = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`the ${which} window's value ${i} is ${String(value)}; numeric values are finite numbers or null`);
    kept[count++] = value;
  }
  if (count === 0) throw new RangeError(`the ${which} window has no values that are not missing (${values.length} given)`);
  return kept.subarray(0, count).sort();
}

/** Sorted numbers as distinct values with counts. */
export function weighSorted(sorted: Float64Array): WeightedValues {
  const values: number[] = [];
  const weights: number[] = [];
  for (const value of sorted) {
    if (values.length > 0 && values[values.length - 1] === value) weights[weights.length - 1]++;
    else {
      values.push(value);
      weights.push(1);
    }
  }
  return { values, weights, count: sorted.length };
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
  return { values, weights, count };
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Walks the merged support of a reference and a sorted window, giving `visit` each distinct value with both CDFs at it. */
export function walkCdfs(reference: WeightedValues, current: Float64Array, visit: (x: number, referenceCdf: number, currentCdf: number) => void): void {
  const referenceTotal = sum(reference.weights);
  let [i, j, referenceSeen, currentSeen] = [0, 0, 0, 0];
  while (i < reference.values.length || j < current.length) {
    const x = Math.min(reference.values[i] ?? Infinity, current[j] ?? Infinity);
    while (i < reference.values.length && reference.values[i] === x) referenceSeen += reference.weights[i++];
    while (j < current.length && current[j] === x) {
      currentSeen++;
      j++;
    }
    visit(x, referenceSeen / referenceTotal, currentSeen / current.length);
  }
}
