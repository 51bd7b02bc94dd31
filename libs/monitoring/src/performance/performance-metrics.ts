import type { StoredPerformance } from '../monitors/monitor.entity';
import type { WindowPerformance } from './window-performance';

/** The positive class when a monitor names none. */
export const DEFAULT_POSITIVE_CLASS = '1';

/**
 * What SQL adds up over a window's predictions joined with their labels: everything its metrics
 * need, so a window's performance is one aggregate query however many rows it holds.
 */
export interface PerformanceCounts {
  /** Rows with a label (classification: any label; the class compared is its text). */
  labeled: number;
  /** Rows whose predicted class equals the label's class. */
  correct: number;
  /** Rows predicted as the positive class that are labelled with it. */
  truePositives: number;
  /** Rows predicted as the positive class. */
  predictedPositives: number;
  /** Rows labelled with the positive class. */
  labeledPositives: number;
  /** Rows with a number label and a numeric prediction (regression). */
  regressionRows: number;
  /** Sum of |label - prediction| over those rows. */
  absoluteErrors: number;
  /** Sum of (label - prediction)^2 over those rows. */
  squaredErrors: number;
}

/** Counts of a window without a labelled row. */
export const NO_COUNTS: PerformanceCounts = {
  labeled: 0,
  correct: 0,
  truePositives: 0,
  predictedPositives: 0,
  labeledPositives: 0,
  regressionRows: 0,
  absoluteErrors: 0,
  squaredErrors: 0,
};

/**
 * Accuracy over the labelled rows, and precision, recall and F1 of the positive class, as
 * scikit-learn defines them with `zero_division=0`: a ratio whose denominator is 0 (no row
 * predicted positive for precision, none labelled positive for recall, neither for F1) is 0, not
 * undefined, so a window without positives reads as 0 rather than missing. F1 is
 * 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall wherever both are defined.
 */
export function classificationPerformance(counts: PerformanceCounts): WindowPerformance {
  const falsePositives = counts.predictedPositives - counts.truePositives;
  const falseNegatives = counts.labeledPositives - counts.truePositives;
  return {
    labeledRows: counts.labeled,
    accuracy: ratio(counts.correct, counts.labeled),
    precision: ratio(counts.truePositives, counts.predictedPositives),
    recall: ratio(counts.truePositives, counts.labeledPositives),
    f1: ratio(2 * counts.truePositives, 2 * counts.truePositives + falsePositives + falseNegatives),
    mae: 0,
    rmse: 0,
  };
}

/** Mean absolute error and root mean squared error over the rows with a number label; 0 without any. */
export function regressionPerformance(counts: PerformanceCounts): WindowPerformance {
  return {
    labeledRows: counts.regressionRows,
    accuracy: 0,
    precision: 0,
    recall: 0,
    f1: 0,
    mae: ratio(counts.absoluteErrors, counts.regressionRows),
    rmse: Math.sqrt(ratio(counts.squaredErrors, counts.regressionRows)),
  };
}

/** The window's performance for the monitor's task. */
export function performanceOf(spec: StoredPerformance, counts: PerformanceCounts): WindowPerformance {
  return spec.task === 'classification' ? classificationPerformance(counts) : regressionPerformance(counts);
}

/** The class whose precision, recall and F1 a monitor reports. */
export function positiveClassOf(spec: StoredPerformance): string {
  return spec.positiveClass || DEFAULT_POSITIVE_CLASS;
}

/**
 * The class a label or a prediction names, as text: a category as it is, a number as JavaScript
 * writes it, so 1.0 is "1" and compares equal to the category "1".
 */
export function classText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}
