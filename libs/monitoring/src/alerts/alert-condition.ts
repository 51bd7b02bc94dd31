import type { ScoredWindow } from '../windows/scored-window';
import type { WindowPerformance } from '../performance/window-performance';

/** A performance metric a rule may watch: the first four of a classification, the last two of a regression. */
export type PerformanceMetricName = 'accuracy' | 'precision' | 'recall' | 'f1' | 'mae' | 'rmse';

/** The metrics that are better high: a rule holds while one is below its bound. */
export const CLASSIFICATION_METRICS: readonly PerformanceMetricName[] = ['accuracy', 'precision', 'recall', 'f1'];

/** When a rule's alert holds, as stored (resources.proto's AlertRule.condition). */
export type AlertCondition =
  | { kind: 'drift_share'; atLeast: number }
  /** `above` and `below` are 0 for none; at least one is set. */
  | { kind: 'column_distance'; column: string; above: number; below: number }
  /** `column` empty for the largest rate of any column. */
  | { kind: 'missing_rate'; column: string; above: number }
  /** `below` for classification metrics, `above` for regression ones; the other is 0. */
  | { kind: 'performance'; metric: PerformanceMetricName; below: number; above: number; minLabeledRows: number };

/** What a condition saw in a window: its value, whether it holds, and a line for people. */
export interface Judged {
  value: number;
  holds: boolean;
  /** "dataset drift 0.67 >= 0.5", "tenure distance 0.12 <= 0.2". */
  summary: string;
}

/** Whether a condition is judged by windows as they close (drift, missing values) rather than by their performance. */
export function judgedByWindows(condition: AlertCondition): boolean {
  return condition.kind !== 'performance';
}

/**
 * What a drift or missing-value condition sees in a scored window; undefined when the window cannot
 * say (the column is not in it, or was not scored), so that an alert stays as it is.
 */
export function judgeWindowCondition(condition: AlertCondition, window: ScoredWindow): Judged | undefined {
  switch (condition.kind) {
    case 'drift_share': {
      const holds = window.driftShare >= condition.atLeast;
      return { value: window.driftShare, holds, summary: `dataset drift ${show(window.driftShare)} ${holds ? '>=' : '<'} ${show(condition.atLeast)}` };
    }
    case 'column_distance': {
      const verdict = window.columns.find(({ column }) => column === condition.column);
      if (!verdict || verdict.error !== '' || !Number.isFinite(verdict.value)) return undefined;
      const overAbove = condition.above > 0 && verdict.value > condition.above;
      const underBelow = condition.below > 0 && verdict.value < condition.below;
      const measure = verdict.pValue ? 'p-value' : 'distance';
      const byBelow = condition.below > 0 && (underBelow || condition.above === 0);
      const bound = byBelow ? `${underBelow ? '<' : '>='} ${show(condition.below)}` : `${overAbove ? '>' : '<='} ${show(condition.above)}`;
      return { value: verdict.value, holds: overAbove || underBelow, summary: `${condition.column} ${measure} ${show(verdict.value)} ${bound}` };
    }
    case 'missing_rate': {
      const scored = condition.column === '' ? window.columns : window.columns.filter(({ column }) => column === condition.column);
      if (scored.length === 0) return undefined;
      const worst = scored.reduce((most, verdict) => (verdict.missingRate > most.missingRate ? verdict : most));
      const holds = worst.missingRate > condition.above;
      return { value: worst.missingRate, holds, summary: `${worst.column} missing rate ${show(worst.missingRate)} ${holds ? '>' : '<='} ${show(condition.above)}` };
    }
    case 'performance':
      return undefined;
  }
}

/** What a performance condition sees in a window's performance; undefined while it has fewer labelled rows than the rule needs. */
export function judgePerformanceCondition(condition: AlertCondition, performance: WindowPerformance): Judged | undefined {
  if (condition.kind !== 'performance' || performance.labeledRows < Math.max(1, condition.minLabeledRows)) return undefined;
  const value = performance[condition.metric];
  if (!Number.isFinite(value)) return undefined;
  const low = CLASSIFICATION_METRICS.includes(condition.metric);
  const holds = low ? value < condition.below : value > condition.above;
  const bound = low ? `${holds ? '<' : '>='} ${show(condition.below)}` : `${holds ? '>' : '<='} ${show(condition.above)}`;
  return { value, holds, summary: `${condition.metric} ${show(value)} ${bound} over ${performance.labeledRows} labeled rows` };
}

/** A number for people: two significant digits (0.67, 0.0012, 120). */
export function show(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(2)));
}
