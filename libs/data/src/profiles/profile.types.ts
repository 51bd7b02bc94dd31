import type { CategoryCountsSummary, HistogramSummary, QuantileSummary } from '@trellis/plugin-sdk';

/** The tabular formats a profile reads. */
export type TabularFormat = 'csv' | 'jsonl' | 'parquet';

/** A column's type in a profile: what its values were read as. */
export type ProfileColumnType = 'integer' | 'float' | 'boolean' | 'string' | 'timestamp';

/** Statistics of one column. Numeric figures are plain numbers; timestamps are ISO 8601 strings. */
export interface ColumnProfile {
  name: string;
  type: ProfileColumnType;
  /** Values that are present (for floats: finite). */
  count: number;
  /** Values that are missing (empty, null; for floats also NaN and infinities). */
  missing: number;
  /** Smallest and largest value: numbers for numeric columns, ISO strings for timestamps and strings. */
  min?: number | string;
  max?: number | string;
  /** Mean and sample standard deviation of numeric columns (standard deviation from 2 values). */
  mean?: number;
  stddev?: number;
  /** Numeric columns with values: percentiles 0, 0.01, ..., 1 (linear interpolation), each within (max - min) / 2000 of the exact one. */
  quantiles?: QuantileSummary;
  /** Numeric columns with values: equal-width bins from min to max. */
  histogram?: HistogramSummary;
  /** String and boolean columns with values: the 50 most frequent categories (ties by value), exact counts; booleans as `true`/`false`. */
  categories?: CategoryCountsSummary;
  /** Present values outside `categories` (those beyond the top ones). */
  otherCount?: number;
}

/** The profile of one tabular file. */
export interface TableProfile {
  format: TabularFormat;
  /** Rows read (the invalid ones excluded). */
  rows: number;
  /** CSV rows left out as malformed (wrong number of fields, a value that does not fit the column's type). */
  invalidRows: number;
  /** The first malformed row's line and reason, when there was one. */
  firstInvalid?: string;
  columns: ColumnProfile[];
}
