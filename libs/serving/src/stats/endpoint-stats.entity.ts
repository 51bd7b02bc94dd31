import { epochMillis } from '@trellis/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The requests one revision answered in one minute whose latency fell in one bucket of
 * LatencyHistogram, and how many of them failed. Every serving replica adds its counts to the row,
 * so a row is the sum over replicas; buckets without requests have no row.
 */
@Entity('endpoint_stats')
@Index('endpoint_stats_minute', ['minute'])
export class EndpointStatsEntity {
  @PrimaryColumn('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  /** The minute's start, in milliseconds since the epoch. */
  @PrimaryColumn('bigint', { transformer: epochMillis })
  minute!: number;

  @PrimaryColumn('varchar', { name: 'revision_id', length: 36 })
  revisionId!: string;

  @PrimaryColumn('integer', { name: 'latency_bucket' })
  latencyBucket!: number;

  @Column('bigint', { transformer: epochMillis })
  requests!: number;

  @Column('bigint', { transformer: epochMillis })
  errors!: number;
}
