/** One column's verdict in a scored window. */
export interface ColumnVerdict {
  column: string;
  /** The detector instance that scored it. */
  detector: string;
  /** True when `value` is a p-value (drifted below the threshold), false for a distance. */
  pValue: boolean;
  statistic: number;
  value: number;
  threshold: number;
  drifted: boolean;
  /** Rows of the window with a value for the column. */
  rows: number;
  /** Share of the window's rows without a value. */
  missingRate: number;
  /** Why the column was not scored; empty when it was. */
  error: string;
}

/**
 * A window as the windows feature scored it, handed to the performance and alerts features in the
 * transaction that stores it. Rows of a monitor are numbered from 1 in the order they were
 * consumed (`seq`), so a window is also the range of row numbers `firstSeq`..`lastSeq`.
 */
export interface ScoredWindow {
  monitorId: string;
  projectId: string;
  monitorName: string;
  endpointName: string;
  /** The window's number, from 1. */
  number: number;
  startMs: number;
  endMs: number;
  closedAtMs: number;
  rows: number;
  firstSeq: number;
  lastSeq: number;
  columns: ColumnVerdict[];
  driftedColumns: number;
  driftShare: number;
  datasetDrift: boolean;
  /** The endpoint revisions that answered the window's rows. */
  revisionIds: string[];
}
