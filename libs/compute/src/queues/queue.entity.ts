import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ReclaimWithinCohort, ResourceQuota, WithinQueue } from '../admission';

/** A queue: on one cluster, in one cohort, with a preemption policy; the org's, made by its admins. */
@Entity('queues')
export class QueueEntity {
  /** Unique in the service; jobs and grants name the queue by it. */
  @PrimaryColumn('varchar', { length: 63 })
  name!: string;

  /** The org whose admins made it; only its principals see it, and only its projects' jobs run on it. */
  @Column('varchar', { name: 'org_id', length: 64 })
  orgId!: string;

  /** The compute instance its jobs run on. */
  @Column('varchar', { length: 128 })
  cluster!: string;

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
