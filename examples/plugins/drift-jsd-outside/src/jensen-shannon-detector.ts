import type { DriftColumn, DriftDetector, DriftReference, DriftScore, DriftScoreOptions, DriftSummary } from '@trellis/plugin-sdk';

type Counts = Record<string, number>;

/**
 * The drift contract (v1) for categorical columns: the reference is its category counts (from raw
 * values or a stored `categories` summary), and a window's score is the Jensen-Shannon distance
 * (base 2, from 0 to 1) between its category shares and the reference's.
 */
export class JensenShannonDetector implements DriftDetector {
  readonly columnTypes = ['categorical'] as const;
  readonly summaries = ['categories'] as const;
  readonly measures = 'distance';

  constructor(readonly defaultThreshold: number) {}

  async fit(reference: DriftColumn | DriftSummary): Promise<DriftReference> {
    if ('summary' in reference) {
      if (reference.summary !== 'categories') throw new TypeError(`this detector fits from categories summaries, not ${reference.summary} (${reference.type} columns)`);
      return { type: 'categorical', state: { counts: checkedCounts(reference.counts) } };
    }
    return { type: 'categorical', state: { counts: countsOf(reference) } };
  }

  async score(reference: DriftReference, current: DriftColumn, options: DriftScoreOptions = {}): Promise<DriftScore> {
    const threshold = options.threshold ?? this.defaultThreshold;
    if (!Number.isFinite(threshold) || threshold < 0) throw new RangeError(`threshold must be a distance of 0 or more, got ${threshold}`);
    if (reference.type !== 'categorical') throw new TypeError(`the reference is of a ${reference.type} column; this detector scores categorical ones`);
    const statistic = jensenShannonDivergence((reference.state as { counts: Counts }).counts, countsOf(current));
    const distance = Math.sqrt(statistic);
    return { measure: 'distance', statistic, distance, threshold, drifted: distance > threshold };
  }
}

function countsOf(column: DriftColumn): Counts {
  if (column.type !== 'categorical') throw new TypeError(`this detector handles categorical columns, not ${column.type} ones`);
  const counts: Counts = {};
  let present = 0;
  for (let i = 0; i < column.values.length; i++) {
    const value = column.values[i];
    if (value === null || value === undefined) continue;
    counts[value] = (counts[value] ?? 0) + 1;
    present++;
  }
  if (present === 0) throw new RangeError('the window has no values that are not missing');
  return counts;
}

function checkedCounts(counts: Readonly<Record<string, number>>): Counts {
  const entries = Object.entries(counts);
  for (const [category, count] of entries) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`the count of category ${JSON.stringify(category)} must be an integer of 0 or more, got ${count}`);
  }
  if (!entries.some(([, count]) => count > 0)) throw new RangeError('a categories summary needs at least one count above 0');
  return Object.fromEntries(entries);
}

function jensenShannonDivergence(a: Counts, b: Counts): number {
  const total = (counts: Counts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  const [totalA, totalB] = [total(a), total(b)];
  let divergence = 0;
  for (const category of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const p = (a[category] ?? 0) / totalA;
    const q = (b[category] ?? 0) / totalB;
    const m = (p + q) / 2;
    if (p > 0) divergence += (p / 2) * Math.log2(p / m);
    if (q > 0) divergence += (q / 2) * Math.log2(q / m);
  }
  return Math.min(1, Math.max(0, divergence));
}
