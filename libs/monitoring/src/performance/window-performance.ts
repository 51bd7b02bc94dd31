/** A window's performance on its labelled rows (classification or regression metrics; the others 0). */
export interface WindowPerformance {
  labeledRows: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  mae: number;
  rmse: number;
}

/** One predicted row of a monitor with performance, as ingest records it. */
export interface PredictedRow {
  /** The row's number in the monitor's stream, from 1 (ScoredWindow.firstSeq..lastSeq). */
  seq: number;
  requestId: string;
  /** The row in the request's batch, from 0. */
  row: number;
  answeredAtMs: number;
  /** The predicted class (classification, as text) or value (regression). */
  predicted: string | number;
}
