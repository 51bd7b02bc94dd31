import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PlacementPolicy, ReclaimWithinCohort, ResourceQuota, WithinQueue } from '../admission';

/** One of a queue's clusters, as stored: its name and its cost weight as given (0 means 1). */
export interface StoredQueueCluster {
  name: string;
  costWeight: number;
}

/** A queue: on one or more clusters, in one cohort, with a placement and a preemption policy; the org's, made by its admins. */
@Entity('queues')
export class QueueEntity {
  /** Unique in the service; jobs and grants name the queue by it. */
  @PrimaryColumn('varchar', { length: 63 })
  name!: string;

  /** The org whose admins made it; only its principals see it, and only its projects' jobs run on it. */
  @Column('varchar', { name: 'org_id', length: 64 })
  orgId!: string;

  /** Its first cluster (`clusters[0].name`), kept for readers of the one-cluster schema. */
  @Column('varchar', { length: 128 })
  cluster!: string;

  /** The compute instances it places jobs on, in order of preference; empty in rows older than the column: `[cluster]` (see `clustersOf`). */
  @Column('simple-json')
  clusters!: StoredQueueCluster[];

  /** How it picks one of the clusters that fit a job. */
  @Column('varchar', { length: 16 })
  placement!: PlacementPolicy;

  /** Queues of one cohort lend to each other; empty: the queue alone. */
  @Column('varchar', { length: 63 })
  cohort!: string;

  @Column('varchar', { name: 'reclaim_within_cohort', length: 16 })
  reclaimWithinCohort!: ReclaimWithinCohort;

  @Column('varchar', { name: 'within_queue', length: 16 })
  withinQueue!: WithinQueue;

  @Column('text')
  description!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

/** A project's quotas on a queue, by resource name (`cpu`, `memory`, `gpu/<type>`). */
@Entity('grants')
export class GrantEntity {
  @PrimaryColumn('varchar', { length: 63 })
  queue!: string;

  @PrimaryColumn('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('simple-json')
  quotas!: Record<string, ResourceQuota>;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

/** The queue's clusters in order; a row from before queues had several is on its one `cluster`. */
export function clustersOf(queue: Pick<QueueEntity, 'cluster' | 'clusters'>): StoredQueueCluster[] {
  return queue.clusters.length > 0 ? queue.clusters : [{ name: queue.cluster, costWeight: 0 }];
}
