import type { ColumnKindName } from './monitor.entity';

/** Reference rows up to which the default policy tests (p-values); above it measures distances. */
export const SMALL_REFERENCE_ROWS = 1000;

/** What the default policy knows of a column when it picks its detector. */
export interface ColumnTraits {
  kind: ColumnKindName;
  /** Rows of the reference the column was fitted on. */
  referenceRows: number;
  /** Distinct categories of a categorical column in the reference (0 for a numeric one). */
  categories: number;
}

/**
 * The drift instance that scores a column when the monitor names none: Evidently's defaults. Up to
 * 1,000 reference rows, ks for numeric columns, z-test for binary ones (at most 2 categories) and
 * chi-square for other categorical ones; above, wasserstein and jensen-shannon. drift-stats fits
 * ks and wasserstein from a profile's quantiles summary as well as from raw values, and the
 * categorical methods from its category counts, so a profile reference needs no other choice.
 */
export function defaultDetector(column: ColumnTraits): string {
  const small = column.referenceRows <= SMALL_REFERENCE_ROWS;
  if (column.kind === 'numeric') return small ? 'ks' : 'wasserstein';
  if (!small) return 'jensen-shannon';
  return column.categories <= 2 ? 'z-test' : 'chi-square';
}
