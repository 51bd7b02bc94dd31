import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Counts in bigint columns, read back as numbers (the kit's bigint transformer). */
const asCount = epochMillis;

/** A scored window of a monitor. */
@Entity('monitor_windows')
export class MonitorWindowEntity {
  @PrimaryColumn('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @PrimaryColumn('bigint', { transformer: asCount })
  number!: number;

  @Column('bigint', { name: 'start_ms', transformer: epochMillis })
  startMs!: number;

  @Column('bigint', { name: 'end_ms', transformer: epochMillis })
  endMs!: number;

  @Column('bigint', { transformer: asCount })
  rows!: number;

  @Column('bigint', { name: 'first_seq', transformer: asCount })
  firstSeq!: number;

  @Column('bigint', { name: 'last_seq', transformer: asCount })
  lastSeq!: number;

  @Column('integer', { name: 'drifted_columns' })
  driftedColumns!: number;

  @Column('double precision', { name: 'drift_share' })
  driftShare!: number;

  @Column('boolean', { name: 'dataset_drift' })
  datasetDrift!: boolean;

  @Column('bigint', { name: 'closed_at', transformer: epochMillis })
  closedAt!: number;

  @Column('simple-json', { name: 'revision_ids' })
  revisionIds!: string[];
}

/** One column's verdict in a scored window. */
@Entity('monitor_column_results')
export class MonitorColumnResultEntity {
  @PrimaryColumn('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @PrimaryColumn('bigint', { name: 'window_number', transformer: asCount })
  windowNumber!: number;

  @PrimaryColumn('integer')
  position!: number;

  @Column('varchar', { length: 256 })
  column!: string;

  @Column('varchar', { length: 128 })
  detector!: string;

  @Column('boolean', { name: 'p_value' })
  pValue!: boolean;

  @Column('double precision')
  statistic!: number;

  @Column('double precision')
  value!: number;

  @Column('double precision')
  threshold!: number;

  @Column('boolean')
  drifted!: boolean;

  @Column('bigint', { transformer: asCount })
  rows!: number;

  @Column('double precision', { name: 'missing_rate' })
  missingRate!: number;

  @Column('text')
  error!: string;
}
