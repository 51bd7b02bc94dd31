import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Counts and sizes in bigint columns, read back as numbers (the kit's bigint transformer). */
const asCount = epochMillis;

/** How a column's values are compared. */
export type ColumnKindName = 'numeric' | 'categorical';

/** One input or output tensor of the model, as its metadata or a logged prediction describes it. */
export interface TensorDescription {
  name: string;
  /** The Open Inference Protocol datatype: BOOL, UINT8, ..., FP32, FP64, BYTES. */
  datatype: string;
  /** Its dimensions, the first being the rows; -1 for one of any size. */
  shape: number[];
  /** True for an output tensor. */
  output: boolean;
}

/**
 * The reference a monitor compares windows with, as stored. A dataset version's is pinned when the
 * monitor is created (`datasetUri` names the number even when a tag was given), and keeps the
 * model's tensors then, from which its columns are resolved once the profile is ready.
 */
export type StoredReference =
  | { kind: 'dataset_version'; datasetUri: string; path: string; origin: string; datasetId: string; version: number; tensors: TensorDescription[] }
  | { kind: 'log_window'; rows: number; origin: string };

/** One column a monitor scores, resolved when it is created. */
export interface MonitoredColumnRow {
  name: string;
  kind: ColumnKindName;
  /** True for a column of an output tensor. */
  output: boolean;
  tensor: string;
  /** Index in the tensor's second dimension (0 for a one-dimensional tensor). */
  index: number;
  /** The drift plugin instance that scores it. */
  detector: string;
  /** The threshold its verdicts use. */
  threshold: number;
}

/** How predictions meet labels, as stored. */
export interface StoredPerformance {
  task: 'classification' | 'regression';
  /** The output tensor holding the prediction. */
  predictionTensor: string;
  positiveClass: string;
  decisionThreshold: number;
}

/** Where a monitor stands: PENDING until its reference is fitted. */
export type MonitorStateName = 'pending' | 'active' | 'failed';

/** A monitor of an endpoint's logged predictions, or of a dataset's versions (`datasetId` set). */
@Entity('monitors')
export class MonitorEntity {
  /** A UUID, the id clients name it by. */
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** Unique in the project; it never changes. */
  @Column('varchar', { length: 128 })
  name!: string;

  @Column('text')
  description!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;

  /** The endpoint whose prediction logs it watches (by name, in the project). */
  @Column('varchar', { name: 'endpoint_name', length: 128 })
  endpointName!: string;

  /**
   * The dataset whose versions it watches, by id as data's events name it; '' for a monitor of an
   * endpoint (optional here so that an endpoint monitor is written without it).
   */
  @Column('varchar', { name: 'dataset_id', length: 64, default: '' })
  datasetId?: string;

  /** The dataset's name, as the monitor was created with it; '' for an endpoint monitor. */
  @Column('varchar', { name: 'dataset_name', length: 128, default: '' })
  datasetName?: string;

  /** The path of the file scored in each version; '' for the version's only tabular file. */
  @Column('varchar', { name: 'dataset_path', length: 1024, default: '' })
  datasetPath?: string;

  @Column('simple-json')
  reference!: StoredReference;

  /** Rows per count window; 0 for a time window. */
  @Column('bigint', { name: 'window_rows', transformer: asCount })
  windowRows!: number;

  /** Seconds per time window; 0 for a count window. */
  @Column('bigint', { name: 'window_seconds', transformer: asCount })
  windowSeconds!: number;

  /** Rows or seconds between window starts; equal to the size for tumbling windows. */
  @Column('bigint', { name: 'window_slide', transformer: asCount })
  windowSlide!: number;

  /** The columns asked for by name; empty for all. */
  @Column('simple-json', { name: 'requested_columns' })
  requestedColumns!: string[];

  @Column('simple-json', { name: 'tensor_columns' })
  tensorColumns!: { tensor: string; names: string[] }[];

  @Column('simple-json')
  detectors!: { column: string; detector: string; threshold: number }[];

  /** Share of drifted columns at which a window is dataset drift. */
  @Column('double precision', { name: 'drift_share' })
  driftShare!: number;

  @Column('simple-json', { nullable: true })
  performance!: StoredPerformance | null;

  @Column('varchar', { length: 16 })
  state!: MonitorStateName;

  @Column('text', { name: 'state_message' })
  stateMessage!: string;

  /** The columns it scores, once resolved (empty while a log-window reference fills). */
  @Column('simple-json', { name: 'monitored_columns' })
  monitoredColumns!: MonitoredColumnRow[];

  @Column('bigint', { name: 'windows_closed', transformer: asCount })
  windowsClosed!: number;
}

/** A column's fitted reference: the detector's `DriftReference`, plain JSON. */
@Entity('monitor_references')
export class MonitorReferenceEntity {
  @PrimaryColumn('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @PrimaryColumn('varchar', { length: 256 })
  column!: string;

  /** The detector instance that fitted it (a reference is read only by its own detector). */
  @Column('varchar', { length: 128 })
  detector!: string;

  /** The `DriftReference` as JSON. */
  @Column('text')
  fitted!: string;
}
