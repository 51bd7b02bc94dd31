import type { DriftColumn, DriftColumnType, DriftMeasure, DriftSummaryForm } from '@trellis/plugin-sdk';
import type { WeightedValues } from '../columns';

/** A reference reduced to what a method reads: a numeric distribution or category counts. */
export type FitInput = { type: 'numeric'; distribution: WeightedValues } | { type: 'categorical'; counts: Record<string, number> };

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
