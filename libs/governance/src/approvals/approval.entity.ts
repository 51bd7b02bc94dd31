import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Where a stored approval request stands. */
export type ApprovalStateName = 'pending' | 'approved' | 'rejected';

const detailsAsJson = {
  to: (value: Record<string, string> | undefined) => (value === undefined ? value : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? {} : (JSON.parse(value) as Record<string, string>)),
};

/** One request for a protected action and, once decided, who decided it and how. */
@Entity('approvals')
export class ApprovalEntity {
  /** Insertion order; lists page on it, newest first. */
  @PrimaryGeneratedColumn('increment', { name: 'seq' })
  seq!: number;

  /** The id clients use (UUID v4). */
  @Column('varchar', { length: 36, unique: true })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** The protected action, e.g. `registry.alias.set`. */
  @Column('varchar', { length: 128 })
  action!: string;

  /** What the action acts on, e.g. `models/churn@champion`. */
  @Column('varchar', { length: 512 })
  resource!: string;

  /** Key/values the decider should see, stored as a JSON object. */
  @Column('text', { transformer: detailsAsJson })
  details!: Record<string, string>;

  @Column('text', { name: 'requester_id' })
  requesterId!: string;

  @Column('varchar', { length: 16 })
  state!: ApprovalStateName;

  @Column('text', { name: 'decider_id', nullable: true })
  deciderId!: string | null;

  /** The decider's note; null while pending. */
  @Column('text', { nullable: true })
  comment!: string | null;

  @Column({ type: Date, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: Date, name: 'decided_at', nullable: true })
  decidedAt!: Date | null;
}
