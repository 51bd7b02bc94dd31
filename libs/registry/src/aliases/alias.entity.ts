import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Where an alias of a model points now. */
@Entity('model_aliases')
export class AliasEntity {
  @PrimaryColumn('integer', { name: 'model_id' })
  modelId!: number;

  @PrimaryColumn('varchar', { length: 255 })
  alias!: string;

  @Column('integer')
  version!: number;
}

/**
 * One change of an alias. Only ever inserted: nothing updates or deletes these rows, and they have
 * no foreign key, so the history outlives the versions (and models) it names.
 */
@Entity('alias_history')
export class AliasChangeEntity {
  @PrimaryGeneratedColumn('increment')
  seq!: number;

  @Column('integer', { name: 'model_id' })
  modelId!: number;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 255 })
  alias!: string;

  /** 0 when the alias was new. */
  @Column('integer', { name: 'from_version' })
  fromVersion!: number;

  /** 0 when the alias was deleted. */
  @Column('integer', { name: 'to_version' })
  toVersion!: number;

  @Column('varchar', { name: 'actor_id', length: 256 })
  actorId!: string;

  @Column('bigint', { name: 'time_ms', transformer: epochMillis })
  timeMs!: number;

  @Column('varchar', { name: 'approval_id', length: 128 })
  approvalId!: string;
}

/** A governance approval spent on a protected alias; each one allows one change. */
@Entity('used_approvals')
export class UsedApprovalEntity {
  @PrimaryColumn('varchar', { name: 'approval_id', length: 128 })
  approvalId!: string;

  @Column('integer', { name: 'model_id' })
  modelId!: number;

  @Column('varchar', { length: 255 })
  alias!: string;

  @Column('bigint', { name: 'used_at', transformer: epochMillis })
  usedAt!: number;
}
