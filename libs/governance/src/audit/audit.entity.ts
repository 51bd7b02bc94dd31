import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Name of the append-only table of the audit chain. */
export const AUDIT_RECORDS_TABLE = 'audit_records';
/** Name of the one-row table holding the chain's last sequence and hash. */
export const AUDIT_CHAIN_HEAD_TABLE = 'audit_chain_head';

/**
 * One record of the audit chain. Rows are only ever inserted (the migration installs triggers that
 * refuse UPDATE and DELETE); `hash` covers `previous_hash` and the event columns (see canonical.ts).
 */
@Entity(AUDIT_RECORDS_TABLE)
export class AuditRecordEntity {
  /** Position in the chain, from 1 without gaps (a decimal string: a 64-bit integer). */
  @PrimaryColumn('bigint')
  sequence!: string;

  @Column('varchar', { name: 'event_id', unique: true })
  eventId!: string;

  @Column('text')
  service!: string;

  @Column('text')
  actor!: string;

  @Column('text')
  action!: string;

  @Column('text')
  method!: string;

  @Column('text')
  resource!: string;

  @Column('text', { name: 'project_id' })
  projectId!: string;

  @Column('text')
  outcome!: string;

  @Column('text')
  reason!: string;

  @Column('text', { name: 'request_id' })
  requestId!: string;

  /** Microseconds since the Unix epoch, UTC (exact on both engines, unlike their time types). */
  @Column('bigint', { name: 'occurred_at_us' })
  occurredAtUs!: string;

  @Column('text', { name: 'client_address' })
  clientAddress!: string;

  /** The user a service account acted for; '' when it acted for nobody (and on rows older than the column). */
  @Column('text', { name: 'on_behalf_of', default: '' })
  onBehalfOf!: string;

  @Column('varchar', { name: 'previous_hash', length: 64 })
  previousHash!: string;

  @Column('varchar', { length: 64 })
  hash!: string;
}

/**
 * The head of the chain: the last record's sequence and hash, updated in the transaction that
 * appends. Appenders lock this row, so the chain never forks; Verify compares it with the last
 * record, so cutting records off the end shows.
 */
@Entity(AUDIT_CHAIN_HEAD_TABLE)
export class AuditChainHeadEntity {
  /** Always 1. */
  @PrimaryColumn('integer')
  id!: number;

  @Column('bigint')
  sequence!: string;

  @Column('varchar', { length: 64 })
  hash!: string;
}

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
