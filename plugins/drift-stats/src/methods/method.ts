import type { DriftColumn, DriftColumnType, DriftMeasure, DriftSummaryForm } from '@trellis/plugin-sdk';
import { sortFinite } from '../radix-sort';
import { weighSorted, type WeightedValues } from '../columns';

/** A numeric reference as a method fits it: its raw values (none missing, unsorted, a copy the method may reorder) or a summary spread over weighted points. */
export type NumericFitInput = { type: 'numeric'; raw: Float64Array } | { type: 'numeric'; spread: WeightedValues };

/** A reference reduced to what a method reads: numeric values or category counts. */
export type FitInput = NumericFitInput | { type: 'categorical'; counts: Record<string, number> };

/** A numeric reference as distinct ascending values with their weights. */
export function distributionOf(input: NumericFitInput): WeightedValues {
  return 'raw' in input ? weighSorted(sortFinite(input.raw)) : input.spread;
}

/** A method's number for a window: its statistic and its p-value or distance. */
export interface MethodResult {
  statistic: number;
  value: number;
}

/** One statistical method: what it takes, what it gives, and its two steps. Its state is plain JSON. */
export interface DriftMethod {
  readonly columnTypes: readonly DriftColumnType[];
  readonly summaries: readonly DriftSummaryForm[];
  readonly measures: DriftMeasure;
  readonly defaultThreshold: number;
  fit(input: FitInput): unknown;
  score(state: unknown, current: DriftColumn): MethodResult;
}

/** Categories of either count table, in first-seen order. */
export function unionOf(reference: Record<string, number>, current: Record<string, number>): string[] {
  return [...new Set([...Object.keys(reference), ...Object.keys(current)])];
}
