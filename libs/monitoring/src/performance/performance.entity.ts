import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Counts and row numbers in bigint columns, read back as numbers. */
const asCount = epochMillis;

/**
 * The ground truth of one logged prediction row of an endpoint, posted by request id. It belongs to
 * the endpoint, not to a monitor: it waits for its prediction, and every monitor of the endpoint
 * that records the prediction joins it.
 */
@Entity('performance_labels')
export class LabelEntity {
  @PrimaryColumn('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @PrimaryColumn('varchar', { name: 'endpoint_name', length: 128 })
  endpointName!: string;

  @PrimaryColumn('varchar', { name: 'request_id', length: 256 })
  requestId!: string;

  /** The row in the request's batch, from 0. */
  @PrimaryColumn('integer', { name: 'row_index' })
  row!: number;

  /** The label as a class: its category, or its number as text ("1" for 1.0). */
  @Column('varchar', { name: 'label_class', length: 256 })
  labelClass!: string;

  /** The label's number, for regression; null for a category. */
  @Column('double precision', { name: 'label_value', nullable: true })
  labelValue!: number | null;

  @Column('bigint', { name: 'posted_at', transformer: epochMillis })
  postedAt!: number;
}

/** One predicted row of a monitor with performance, as ingest recorded it. */
@Entity('performance_predictions')
export class PredictedRowEntity {
  @PrimaryColumn('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  /** The row's number in the monitor's stream (ScoredWindow.firstSeq..lastSeq). */
  @PrimaryColumn('bigint', { transformer: asCount })
  seq!: number;

  @Column('varchar', { name: 'request_id', length: 256 })
  requestId!: string;

  @Column('integer', { name: 'row_index' })
  row!: number;

  @Column('bigint', { name: 'answered_at', transformer: epochMillis })
  answeredAt!: number;

  /** The predicted class as text (a number as JavaScript writes it). */
  @Column('text', { name: 'predicted_class' })
  predictedClass!: string;

  /** The predicted value when it is a finite number; null otherwise. */
  @Column('double precision', { name: 'predicted_value', nullable: true })
  predictedValue!: number | null;
}

/** A closed window of a monitor with performance: its rows and, once labels arrive, its metrics. */
@Entity('performance_windows')
export class WindowPerformanceEntity {
  @PrimaryColumn('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @PrimaryColumn('bigint', { transformer: asCount })
  number!: number;

  @Column('bigint', { name: 'first_seq', transformer: asCount })
  firstSeq!: number;

  @Column('bigint', { name: 'last_seq', transformer: asCount })
  lastSeq!: number;

  @Column('bigint', { name: 'closed_at', transformer: epochMillis })
  closedAt!: number;

  @Column('bigint', { name: 'labeled_rows', transformer: asCount })
  labeledRows!: number;

  @Column('double precision')
  accuracy!: number;

  @Column('double precision', { name: 'precision_score' })
  precision!: number;

  @Column('double precision', { name: 'recall_score' })
  recall!: number;

  @Column('double precision', { name: 'f1_score' })
  f1!: number;

  @Column('double precision')
  mae!: number;

  @Column('double precision')
  rmse!: number;
}
