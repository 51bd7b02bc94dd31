import type { StoredPerformance } from './monitor.entity';
import type { DetectorChoice } from './reference-fitter';

/** The reference CreateMonitor asks for: lineage's (unset), a dataset version, or the first logged rows. */
export type RequestedReference = { kind: 'lineage' } | { kind: 'dataset_version'; datasetUri: string; path: string } | { kind: 'log_window'; rows: number };

/** What a new monitor needs; checked by `create`. */
export interface NewMonitor {
  projectId: string;
  name: string;
  description: string;
  /** '' for a monitor of a dataset. */
  endpointName: string;
  /** The dataset whose versions it watches, instead of an endpoint; null for an endpoint monitor. */
  dataset: { datasetName: string; path: string } | null;
  reference: RequestedReference;
  /** Both sizes 0: tumbling windows of 1,000 rows; slide 0: tumbling. */
  window: { rows: number; durationSeconds: number; slide: number };
  columns: string[];
  tensorColumns: { tensor: string; names: string[] }[];
  detectors: DetectorChoice[];
  /** 0 is 0.5. */
  driftShare: number;
  performance: StoredPerformance | null;
}
