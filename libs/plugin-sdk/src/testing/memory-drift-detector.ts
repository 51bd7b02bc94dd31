import type {
  DriftColumn,
  DriftColumnType,
  DriftDetector,
  DriftMeasure,
  DriftReference,
  DriftScore,
  DriftScoreOptions,
  DriftSummary,
  DriftSummaryForm,
} from '../contracts';
import { checkSummaryCounts, summaryKnots } from '../drift/summary-knots';

/** The methods a `MemoryDriftDetector` computes. */
export type MemoryDriftMethod = 'ks' | 'psi';

/** A reference CDF as points `(x, p)`, linear between them: how `ks` stores a reference. */
interface KsState {
  method: 'ks';
  count: number;
  knots: { x: number; p: number }[];
}

/** Bin proportions: `psi`'s reference. Numeric bins are cut at `cuts` (below the first, between each, from the last on). */
type PsiState = { method: 'psi'; cuts: number[]; proportions: number[] } | { method: 'psi'; categories: Record<string, number> };

const KNOTS = 201;
const PSI_BINS = 10;
const PSI_FLOOR = 1e-4;

/**
 * The drift contract in memory, for specs; it passes `describeDriftConformance` with either method:
 * - `ks`: the two-sample Kolmogorov-Smirnov test on numeric columns (a p-value; default threshold
 *   0.05) with the asymptotic Kolmogorov distribution. The reference is kept as 201 quantiles (or
 *   the summary it came from), the current window exactly;
 * - `psi`: the population stability index (a distance; default threshold 0.2) over ten quantile
 *   bins of the reference (or the summary's bins) for numeric columns, or over the reference's
 *   categories and one bin for categories it never had.
 */
export class MemoryDriftDetector implements DriftDetector {
  readonly columnTypes: readonly DriftColumnType[];
  readonly summaries: readonly DriftSummaryForm[];
  readonly measures: DriftMeasure;
  readonly defaultThreshold: number;

  constructor(readonly method: MemoryDriftMethod) {
    if (method === 'ks') {
      this.columnTypes = ['numeric'];
      this.summaries = ['quantiles', 'histogram'];
      this.measures = 'p-value';
      this.defaultThreshold = 0.05;
    } else if (method === 'psi') {
      this.columnTypes = ['numeric', 'categorical'];
      this.summaries = ['quantiles', 'histogram', 'categories'];
      this.measures = 'distance';
      this.defaultThreshold = 0.2;
    } else {
      throw new TypeError(`method must be 'ks' or 'psi', got ${JSON.stringify(method)}`);
    }
  }

  async fit(reference: DriftColumn | DriftSummary): Promise<DriftReference> {
    this.checkType(reference.type);
    if ('summary' in reference) {
      if (!this.summaries.includes(reference.summary)) throw new TypeError(`the ${this.method} detector does not fit from a ${JSON.stringify(reference.summary)} summary; it fits from ${this.summaries.join(', ')}`);
      return { type: reference.type, state: this.fitSummary(reference) };
    }
    if (reference.type === 'categorical') return { type: 'categorical', state: { method: 'psi', categories: proportions(categoryCounts(present(reference.values, 'reference'))) } };
    const sorted = numbers(reference.values, 'reference').sort((a, b) => a - b);
    if (this.method === 'ks') return { type: 'numeric', state: { method: 'ks', count: sorted.length, knots: quantileKnots(sorted) } satisfies KsState };
    return { type: 'numeric', state: psiBins(sorted) };
  }

  async score(reference: DriftReference, current: DriftColumn, options: DriftScoreOptions = {}): Promise<DriftScore> {
    this.checkType(current.type);
    if (reference.type !== current.type) throw new TypeError(`the reference was fitted on a ${reference.type} column; this window is ${current.type}`);
    const state = reference.state as KsState | PsiState;
    if (state?.method !== this.method) throw new TypeError(`the reference was not fitted by a ${this.method} detector`);
    const threshold = this.threshold(options.threshold);
    if (state.method === 'ks') {
      const values = numbers(current.values, 'current').sort((a, b) => a - b);
      const statistic = ksDistance(state.knots, values);
      const pValue = kolmogorovPValue(statistic, (state.count * values.length) / (state.count + values.length));
      return { measure: 'p-value', statistic, pValue, threshold, drifted: pValue < threshold };
    }
    const [expected, actual] = 'categories' in state ? categoryProportions(state.categories, present(current.values as ArrayLike<string | null>, 'current')) : [state.proportions, binProportions(state.cuts, numbers(current.values, 'current'))];
    const distance = psi(expected, actual);
    return { measure: 'distance', statistic: distance, distance, threshold, drifted: distance > threshold };
  }

  private checkType(type: DriftColumnType): void {
    if (!this.columnTypes.includes(type)) throw new TypeError(`the ${this.method} detector handles ${this.columnTypes.join(' and ')} columns, not ${JSON.stringify(type)} ones`);
  }

  private threshold(given: number | undefined): number {
    if (given === undefined) return this.defaultThreshold;
    if (this.measures === 'p-value' && !(given > 0 && given < 1)) throw new RangeError(`threshold is a p-value strictly between 0 and 1 for the ${this.method} detector, got ${given}`);
    if (this.measures === 'distance' && !(given >= 0 && Number.isFinite(given))) throw new RangeError(`threshold is a finite distance of 0 or more for the ${this.method} detector, got ${given}`);
    return given;
  }

  private fitSummary(summary: DriftSummary): KsState | PsiState {
    if (summary.summary === 'categories') {
      const counts = new Map(Object.entries(summary.counts));
      checkSummaryCounts([...counts.values()], 'counts');
      return { method: 'psi', categories: proportions(counts) };
    }
    const knots = summaryKnots(summary);
    if (this.method === 'ks') return { method: 'ks', count: summary.summary === 'quantiles' ? summary.count : sum(summary.counts), knots };
    // PSI bins of a summary: cut at its inner points; each bin holds the probability between two cuts.
    const inner = knots.filter((k) => k.p > 0 && k.p < 1).filter((k, i, all) => i === 0 || k.x > all[i - 1].x);
    const cuts = inner.map((k) => k.x);
    const at = [0, ...inner.map((k) => k.p), 1];
    return { method: 'psi', cuts, proportions: at.slice(1).map((p, i) => p - at[i]) };
  }
}

/** The values that are not missing; `RangeError` when there are none. */
function present<T>(values: ArrayLike<T | null>, which: string): T[] {
  const kept: T[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== null && values[i] !== undefined) kept.push(values[i] as T);
  if (kept.length === 0) throw new RangeError(`the ${which} window has no values (${values.length} given, all missing)`);
  return kept;
}

/** The numbers that are not missing; `RangeError` for one that is not finite. */
function numbers(values: ArrayLike<number | string | null>, which: string): number[] {
  const kept = present(values, which);
  kept.forEach((value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`the ${which} window's value ${i} is ${String(value)}; numeric values are finite numbers or null`);
  });
  return kept as number[];
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The value at probability `p` of sorted values, interpolated between neighbours. */
function quantile(sorted: readonly number[], p: number): number {
  const at = p * (sorted.length - 1);
  const low = Math.floor(at);
  return low + 1 < sorted.length ? sorted[low] + (at - low) * (sorted[low + 1] - sorted[low]) : sorted[low];
}

function quantileKnots(sorted: readonly number[]): { x: number; p: number }[] {
  return Array.from({ length: KNOTS }, (_, i) => ({ x: quantile(sorted, i / (KNOTS - 1)), p: i / (KNOTS - 1) }));
}

/** The reference CDF at `x`: linear between knots, 0 before the first and 1 from the last. */
function cdf(knots: readonly { x: number; p: number }[], x: number): number {
  if (x < knots[0].x) return 0;
  let low = 0;
  let high = knots.length - 1;
  if (x >= knots[high].x) return 1;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (knots[mid].x <= x) low = mid;
    else high = mid;
  }
  const a = knots[low];
  const b = knots[high];
  return a.p + ((x - a.x) / (b.x - a.x)) * (b.p - a.p);
}

/** The largest gap between the reference CDF and the empirical CDF of sorted `values`. */
function ksDistance(knots: readonly { x: number; p: number }[], values: readonly number[]): number {
  let d = 0;
  const m = values.length;
  for (let j = 0; j < m; j++) {
    const f = cdf(knots, values[j]);
    d = Math.max(d, Math.abs(f - j / m), Math.abs(f - (j + 1) / m));
  }
  return d;
}

/** P(D > d) under the Kolmogorov distribution for `effective` = n*m/(n+m) (Numerical Recipes' probks). */
function kolmogorovPValue(d: number, effective: number): number {
  const root = Math.sqrt(effective);
  const lambda = (root + 0.12 + 0.11 / root) * d;
  if (lambda < 0.2) return 1;
  let total = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    total += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, total));
}

function psiBins(sorted: readonly number[]): PsiState {
  const cuts = [...new Set(Array.from({ length: PSI_BINS - 1 }, (_, i) => quantile(sorted, (i + 1) / PSI_BINS)))];
  return { method: 'psi', cuts, proportions: binProportions(cuts, sorted) };
}

function binProportions(cuts: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  for (const value of values) {
    let bin = 0;
    while (bin < cuts.length && value >= cuts[bin]) bin++;
    counts[bin]++;
  }
  return counts.map((c) => c / values.length);
}

function categoryCounts(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function proportions(counts: Map<string, number>): Record<string, number> {
  const total = sum([...counts.values()]);
  return Object.fromEntries([...counts].map(([category, count]) => [category, count / total]));
}

/** Expected and actual proportions over the reference's categories, then one bin for all categories it never had. */
function categoryProportions(reference: Record<string, number>, values: readonly string[]): [number[], number[]] {
  const counts = categoryCounts(values);
  const known = Object.keys(reference);
  const unseen = sum([...counts].filter(([category]) => !(category in reference)).map(([, count]) => count));
  return [
    [...known.map((c) => reference[c]), 0],
    [...known.map((c) => (counts.get(c) ?? 0) / values.length), unseen / values.length],
  ];
}

function psi(expected: readonly number[], actual: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], PSI_FLOOR);
    const a = Math.max(actual[i], PSI_FLOOR);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}
