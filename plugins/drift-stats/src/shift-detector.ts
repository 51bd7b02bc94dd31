import type { DriftColumn, DriftColumnType, DriftDetector, DriftReference, DriftScore, DriftScoreOptions, DriftSummary, DriftSummaryForm } from '@trellis/plugin-sdk';

/** What a fitted reference keeps: a numeric column's mean and standard deviation, a categorical column's share of each category. */
type ShiftState = { mean: number; sd: number } | { shares: Record<string, number> };

/**
 * A distance between a window and its reference, 0 when they agree:
 * - numeric: how far the window's mean moved, in standard deviations of the reference
 *   (`|mean - reference mean| / reference sd`);
 * - categorical: the total variation distance between the category shares (half the sum of the
 *   differences of each category's share, 0 to 1).
 * It sees a shift of the centre or of the mix; a change of spread alone needs another statistic
 * (a KS test, Wasserstein), a change a real detector adds.
 */
export class ShiftDetector implements DriftDetector {
  readonly columnTypes: readonly DriftColumnType[] = ['numeric', 'categorical'];
  readonly summaries: readonly DriftSummaryForm[] = ['quantiles', 'histogram', 'categories'];
  readonly measures = 'distance';

  constructor(readonly defaultThreshold: number) {}

  async fit(reference: DriftColumn | DriftSummary): Promise<DriftReference> {
    if (!this.columnTypes.includes(reference.type)) throw new TypeError(`this detector handles numeric and categorical columns, not ${JSON.stringify(reference.type)} ones`);
    if (!('summary' in reference)) return { type: reference.type, state: reference.type === 'numeric' ? moments(numbers(reference, 'reference')) : { shares: shares(categories(reference, 'reference')) } };
    if (reference.summary === 'categories') return { type: 'categorical', state: { shares: shares(Object.entries(reference.counts)) } };
    if (reference.summary === 'histogram') return { type: 'numeric', state: histogramMoments(reference.edges, reference.counts) };
    if (reference.summary === 'quantiles') return { type: 'numeric', state: quantileMoments(reference.quantiles, reference.count) };
    throw new TypeError(`this detector fits from ${this.summaries.join(', ')} summaries, not ${JSON.stringify((reference as { summary: unknown }).summary)}`);
  }

  async score(reference: DriftReference, current: DriftColumn, options: DriftScoreOptions = {}): Promise<DriftScore> {
    const threshold = options.threshold ?? this.defaultThreshold;
    if (!(threshold >= 0 && Number.isFinite(threshold))) throw new RangeError(`threshold is a distance, a finite number of 0 or more; got ${threshold}`);
    if (reference.type !== current.type) throw new TypeError(`the reference was fitted on a ${reference.type} column; this window is ${current.type}`);
    const state = reference.state as ShiftState;
    let distance: number;
    if ('mean' in state) {
      // A constant reference has no spread to measure by: the shift is then in the column's units.
      distance = Math.abs(moments(numbers(current, 'current')).mean - state.mean) / (state.sd > 0 ? state.sd : 1);
    } else {
      const now = shares(categories(current, 'current'));
      distance = [...new Set([...Object.keys(state.shares), ...Object.keys(now)])].reduce((sum, c) => sum + Math.abs((state.shares[c] ?? 0) - (now[c] ?? 0)), 0) / 2;
    }
    return { measure: 'distance', statistic: distance, distance, threshold, drifted: distance > threshold };
  }
}

/** The window's values that are not missing: at least one, each a finite number. */
function numbers(column: DriftColumn, which: string): number[] {
  const values = present(column, which);
  const bad = values.find((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`the ${which} window holds ${String(bad)}; numeric values are finite numbers or null`);
  return values as number[];
}

/** The window's categories with how often each occurs (missing values left out). */
function categories(column: DriftColumn, which: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const value of present(column, which)) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts];
}

function present(column: DriftColumn, which: string): (number | string)[] {
  const values = Array.from(column.values as ArrayLike<number | string | null>).filter((v) => v !== null && v !== undefined);
  if (values.length === 0) throw new RangeError(`the ${which} window has no values that are not missing`);
  return values;
}

/** Each category's share of the counts; RangeError for a count that is not a whole number of 0 or more, or counts adding up to 0. */
function shares(counts: [string, number][]): Record<string, number> {
  if (counts.some(([, n]) => !Number.isInteger(n) || n < 0)) throw new RangeError('category counts are whole numbers of 0 or more');
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) throw new RangeError('category counts add up to 0: there is nothing to compare with');
  return Object.fromEntries(counts.map(([c, n]) => [c, n / total]));
}

function moments(values: readonly number[]): { mean: number; sd: number } {
  return weightedMoments(values.map((v) => [v, 1]));
}

/** Mean and standard deviation of values with weights. */
function weightedMoments(points: readonly (readonly [number, number])[]): { mean: number; sd: number } {
  const total = points.reduce((sum, [, w]) => sum + w, 0);
  const mean = points.reduce((sum, [v, w]) => sum + v * w, 0) / total;
  const variance = points.reduce((sum, [v, w]) => sum + w * (v - mean) ** 2, 0) / total;
  return { mean, sd: Math.sqrt(variance) };
}

/** A histogram's moments, each bin's values taken at its middle. */
function histogramMoments(edges: readonly number[], counts: readonly number[]): { mean: number; sd: number } {
  if (edges.length !== counts.length + 1) throw new RangeError(`a histogram has one more edge than counts; got ${edges.length} edges for ${counts.length} counts`);
  edges.forEach((edge, i) => {
    if (!Number.isFinite(edge) || (i > 0 && edge <= edges[i - 1])) throw new RangeError(`histogram edges are finite and strictly ascending; edges[${i}] is ${edge}`);
  });
  shares(counts.map((n, i) => [String(i), n]));
  return weightedMoments(counts.map((n, i) => [(edges[i] + edges[i + 1]) / 2, n]));
}

/** Quantiles' moments: each stretch between two points weighs its share of probability, at its middle. */
function quantileMoments(quantiles: readonly { p: number; value: number }[], count: number): { mean: number; sd: number } {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a quantile summary's count is a whole number of 1 or more; got ${count}`);
  if (quantiles.length < 2) throw new RangeError('a quantile summary needs at least two points');
  quantiles.forEach(({ p, value }, i) => {
    if (!(p >= 0 && p <= 1) || !Number.isFinite(value)) throw new RangeError(`quantiles[${i}] needs p from 0 to 1 and a finite value`);
    if (i > 0 && (p <= quantiles[i - 1].p || value < quantiles[i - 1].value)) throw new RangeError(`quantiles[${i}] must follow quantiles[${i - 1}]: p ascending, value not decreasing`);
  });
  return weightedMoments(quantiles.slice(1).map((q, i) => [(q.value + quantiles[i].value) / 2, q.p - quantiles[i].p]));
}
