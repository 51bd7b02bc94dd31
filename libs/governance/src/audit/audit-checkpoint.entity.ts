import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Name of the append-only table of the chain's signed checkpoints. */
export const AUDIT_CHECKPOINTS_TABLE = 'audit_checkpoints';

/**
 * One signed checkpoint of the audit chain: the head (`sequence`, `head_hash`) at `created_at_us`,
 * with a MAC over them made by a KMS key the database does not hold. Rows are only ever inserted
 * (triggers refuse UPDATE and DELETE).
 */
@Entity(AUDIT_CHECKPOINTS_TABLE)
export class AuditCheckpointEntity {
  /** From 1 without gaps (a decimal string: a 64-bit integer). */
  @PrimaryColumn('bigint')
  number!: string;

  /** The last record covered. */
  @Column('bigint')
  sequence!: string;

  @Column('varchar', { name: 'head_hash', length: 64 })
  headHash!: string;

  /** Microseconds since the Unix epoch, UTC. */
  @Column('bigint', { name: 'created_at_us' })
  createdAtUs!: string;

  /** The KMS key id the MAC was made under. */
  @Column('text', { name: 'key_id' })
  keyId!: string;

  /** The KMS's MAC, in base64. */
  @Column('text')
  mac!: string;
}
