import type { PluginInstance } from './plugin-instance';

/** The kinds of column a drift detector can handle. */
export type DriftColumnType = 'numeric' | 'categorical';

/** The values of one column over a window; `null` is a missing value. */
export type DriftColumn =
  | { type: 'numeric'; values: ArrayLike<number | null> }
  | { type: 'categorical'; values: ArrayLike<string | null> };

/**
 * A numeric column summarized by its quantiles (a t-digest or KLL sketch read out at fixed
 * probabilities, or exact quantiles of a profile). Plain JSON.
 *
 * @example
 * { type: 'numeric', summary: 'quantiles', count: 10000, missing: 12,
 *   quantiles: [{ p: 0, value: -3.1 }, { p: 0.5, value: 0.02 }, { p: 1, value: 3.4 }] }
 */
export interface QuantileSummary {
  type: 'numeric';
  summary: 'quantiles';
  /** How many non-missing values were summarized (at least 1). */
  count: number;
  /** How many values were missing; 0 when absent. */
  missing?: number;
  /**
   * Points of the distribution: `p` from 0 to 1 ascending, `value` not decreasing. The first and
   * last should be `p` 0 and 1 (the minimum and the maximum); at least two points.
   */
  quantiles: readonly { p: number; value: number }[];
}

/**
 * A numeric column summarized as a histogram: `counts[i]` values lay in `[edges[i], edges[i+1])`
 * (the last bin includes its upper edge). Plain JSON.
 *
 * @example
 * { type: 'numeric', summary: 'histogram', edges: [0, 10, 20, 30], counts: [5, 12, 3] }
 */
export interface HistogramSummary {
  type: 'numeric';
  summary: 'histogram';
  /** Bin edges, finite and strictly ascending: one more than `counts`. */
  edges: readonly number[];
  /** Values per bin (integers of 0 or more, at least one above 0). */
  counts: readonly number[];
  /** How many values were missing; 0 when absent. */
  missing?: number;
}

/**
 * A categorical column summarized by how often each category occurred. Plain JSON.
 *
 * @example
 * { type: 'categorical', summary: 'categories', counts: { red: 120, green: 80 }, missing: 3 }
 */
export interface CategoryCountsSummary {
  type: 'categorical';
  summary: 'categories';
  /** Occurrences per category (integers of 0 or more, at least one above 0). */
  counts: Readonly<Record<string, number>>;
  /** How many values were missing; 0 when absent. */
  missing?: number;
}

/**
 * A column reduced to a summary, as a dataset version's profile stores it: `fit` accepts one in
 * place of the raw values, so the profile serves as the reference of a monitor.
 */
export type DriftSummary = QuantileSummary | HistogramSummary | CategoryCountsSummary;

/** The forms of summary: `quantiles` and `histogram` for numeric columns, `categories` for categorical ones. */
export type DriftSummaryForm = DriftSummary['summary'];

/** What a detector's number is: a p-value (drifted below the threshold) or a distance (drifted above it). */
export type DriftMeasure = 'p-value' | 'distance';

/**
 * A reference window reduced to what scoring needs (bins, quantiles, category counts). Plain JSON,
 * so the owning service stores it and scores later windows against it after a restart.
 */
export interface DriftReference {
  /** The column type it was fitted on. */
  type: DriftColumnType;
  /** The detector's own state, plain JSON (no typed arrays, `Infinity` or `NaN`); only the detector that produced it reads it. */
  state: unknown;
}

/** What every score carries, whatever its measure. */
interface DriftScoreBase {
  /** The method's statistic (KS D, chi-square, PSI, ...). */
  statistic: number;
  /** The threshold the verdict used. */
  threshold: number;
  /** The verdict. */
  drifted: boolean;
}

/**
 * The outcome of comparing a window with the reference. `measure` is the detector's `measures`;
 * a p-value score is drifted when `pValue < threshold`, a distance score when `distance > threshold`.
 */
export type DriftScore =
  | (DriftScoreBase & {
      measure: 'p-value';
      /** The test's p-value, 0 to 1. */
      pValue: number;
    })
  | (DriftScoreBase & {
      measure: 'distance';
      /** The distance (PSI, Wasserstein, Jensen-Shannon), 0 or more. */
      distance: number;
    });

/** Options of `score`. */
export interface DriftScoreOptions {
  /**
   * Overrides `defaultThreshold`: a p-value strictly between 0 and 1, or a distance of 0 or more.
   * Another value is refused with a `RangeError` naming `threshold`.
   */
  threshold?: number;
}

/**
 * Drift contract, v1: one statistical method (an instance is configured with it, e.g. a KS test).
 * Checked by `describeDriftConformance`. Missing values (`null`) are left out of the statistic.
 * Refuses:
 * - a column or summary of a type it does not declare, a summary form it does not declare, or a
 *   window scored against a reference of another type: `TypeError` naming the type or form;
 * - a window with no values that are not missing, a numeric value that is not finite, an invalid
 *   summary or threshold: `RangeError` naming what is wrong.
 */
export interface DriftDetector extends PluginInstance {
  /** The column types this detector handles. */
  readonly columnTypes: readonly DriftColumnType[];
  /** The summary forms `fit` accepts: at least one for each type of `columnTypes`. */
  readonly summaries: readonly DriftSummaryForm[];
  /** Whether `score` gives a p-value or a distance. */
  readonly measures: DriftMeasure;
  /** The threshold used when `score` is given none (a p-value or a distance, per `measures`). */
  readonly defaultThreshold: number;
  /** Reduces a reference window, or a stored summary of one, to what later scoring needs. */
  fit(reference: DriftColumn | DriftSummary): Promise<DriftReference>;
  /** Compares a current window with a fitted reference and gives the verdict. */
  score(reference: DriftReference, current: DriftColumn, options?: DriftScoreOptions): Promise<DriftScore>;
}
