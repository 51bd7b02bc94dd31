import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Reads a bigint column (a string from PostgreSQL, a number from SQLite) as a number. */
const integerColumn = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/** Reads a float column; SQLite stores NaN as NULL. */
const valueColumn = {
  to: (value: number) => value,
  from: (value: number | null) => (value === null ? Number.NaN : value),
};

/** One metric of one run: how many points it has and its latest one. */
@Entity('metric_series')
export class MetricSeriesEntity {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Column('varchar', { name: 'run_id', length: 32 })
  runId!: string;

  @Column('varchar', { length: 250 })
  key!: string;

  @Column('bigint', { name: 'point_count', transformer: integerColumn })
  pointCount!: number;

  /** Of the point with the highest step, then timestamp, then value (MLflow's latest metric). */
  @Column('double precision', { name: 'latest_value', nullable: true, transformer: valueColumn })
  latestValue!: number;

  @Column('bigint', { name: 'latest_step', transformer: integerColumn })
  latestStep!: number;

  @Column('bigint', { name: 'latest_timestamp', transformer: integerColumn })
  latestTimestamp!: number;

  @Column('bigint', { name: 'max_step', transformer: integerColumn })
  maxStep!: number;

  /** Steps never decreased in logged order. */
  @Column('boolean')
  monotonic!: boolean;
}

/** One logged point; `seq` is its position in the series, from 0. */
@Entity('metric_points')
export class MetricPointEntity {
  @PrimaryColumn('integer', { name: 'series_id' })
  seriesId!: number;

  @PrimaryColumn('bigint', { transformer: integerColumn })
  seq!: number;

  @Column('bigint', { transformer: integerColumn })
  step!: number;

  @Column('bigint', { transformer: integerColumn })
  timestamp!: number;

  @Column('double precision', { nullable: true, transformer: valueColumn })
  value!: number;
}

/** The lowest and highest point of a block of 1024 consecutive points of a series. */
@Entity('metric_rollups')
export class MetricRollupEntity {
  @PrimaryColumn('integer', { name: 'series_id' })
  seriesId!: number;

  @PrimaryColumn('bigint', { transformer: integerColumn })
  block!: number;

  @Column('integer')
  count!: number;

  @Column('double precision', { name: 'min_value', nullable: true, transformer: valueColumn })
  minValue!: number;

  @Column('bigint', { name: 'min_seq', transformer: integerColumn })
  minSeq!: number;

  @Column('bigint', { name: 'min_step', transformer: integerColumn })
  minStep!: number;

  @Column('bigint', { name: 'min_timestamp', transformer: integerColumn })
  minTimestamp!: number;

  @Column('double precision', { name: 'max_value', nullable: true, transformer: valueColumn })
  maxValue!: number;

  @Column('bigint', { name: 'max_seq', transformer: integerColumn })
  maxSeq!: number;

  @Column('bigint', { name: 'max_step', transformer: integerColumn })
  maxStep!: number;

  @Column('bigint', { name: 'max_timestamp', transformer: integerColumn })
  maxTimestamp!: number;

  @Column('bigint', { name: 'first_step', transformer: integerColumn })
  firstStep!: number;

  @Column('bigint', { name: 'last_step', transformer: integerColumn })
  lastStep!: number;

  /** The lowest timestamp of the block's points. */
  @Column('bigint', { name: 'earliest_timestamp', transformer: integerColumn })
  earliestTimestamp!: number;

  /** The highest timestamp of the block's points. */
  @Column('bigint', { name: 'latest_timestamp', transformer: integerColumn })
  latestTimestamp!: number;
}

/** Entities of the metrics feature, for a DataSource that holds its tables. */
export const METRIC_ENTITIES = [MetricSeriesEntity, MetricPointEntity, MetricRollupEntity];
