import type { PluginInstance } from './plugin-instance';

/** The kinds of column a drift detector can handle. */
export type DriftColumnType = 'numeric' | 'categorical';

/** The values of one column over a window; `null` is a missing value. */
export type DriftColumn =
  | { type: 'numeric'; values: ArrayLike<number | null> }
  | { type: 'categorical'; values: ArrayLike<string | null> };

/**
 * A reference window reduced to what scoring needs (bins, quantiles, category counts). Plain JSON,
 * so the owning service stores it and scores later windows against it after a restart.
 */
export interface DriftReference {
  /** The column type it was fitted on. */
  type: DriftColumnType;
  /** The detector's own state; only the detector that produced it reads it. */
  state: unknown;
}

/** The outcome of comparing a window with the reference. */
export interface DriftScore {
  /** The method's statistic (KS D, chi-square, PSI, ...). */
  statistic: number;
  /** For a hypothesis test: the p-value; drifted when it is below `threshold`. */
  pValue?: number;
  /** For a distance (PSI, Wasserstein, Jensen-Shannon): the distance; drifted when it is above `threshold`. */
  distance?: number;
  /** The threshold the verdict used. */
  threshold: number;
  /** The verdict. */
  drifted: boolean;
}

/**
 * Drift contract, v1: one statistical method (an instance is configured with it, e.g. a KS test).
 * Refuses a column of a type it does not declare with a `TypeError` that names the type.
 */
export interface DriftDetector extends PluginInstance {
  /** The column types this detector handles. */
  readonly columnTypes: readonly DriftColumnType[];
  /** The threshold used when `score` is given none (a p-value or a distance, per method). */
  readonly defaultThreshold: number;
  /** Reduces a reference window to what later scoring needs. */
  fit(reference: DriftColumn): Promise<DriftReference>;
  /** Compares a current window with a fitted reference and gives the verdict. */
  score(reference: DriftReference, current: DriftColumn, options?: { threshold?: number }): Promise<DriftScore>;
}
