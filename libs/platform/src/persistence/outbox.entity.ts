import { EntitySchema } from 'typeorm';
import type { DatabaseKind } from './database-config';
import { OUTBOX_TABLE } from './kit-table-names';

/**
 * One event waiting in the transactional outbox: written in the same transaction as the change it
 * describes, removed by the relay once the event bus has accepted it. Columns mirror
 * `trellis.events.v1.EventEnvelope`; `seq` orders the rows in insertion order.
 */
export class OutboxEntity {
  /** Insertion order (a decimal string, since it is a 64-bit integer on PostgreSQL). */
  seq!: string;
  /** The event id (UUID v4); also the JetStream `Nats-Msg-Id`. */
  id!: string;
  subject!: string;
  /** Fully qualified protobuf name of the payload message. */
  payloadType!: string;
  /** Binary protobuf encoding of the payload. */
  payload!: Buffer;
  occurredAt!: Date;
  requestId!: string | null;
  actor!: string | null;
  projectId!: string | null;
}

/**
 * The TypeORM mapping of {@link OutboxEntity} for one database engine (the column types for bytes
 * and times differ between SQLite and PostgreSQL). `openDatabase` registers it.
 */
export function outboxEntitySchema(kind: DatabaseKind): EntitySchema<OutboxEntity> {
  const postgres = kind === 'postgres';
  return new EntitySchema<OutboxEntity>({
    name: 'OutboxEntity',
    target: OutboxEntity,
    tableName: OUTBOX_TABLE,
    columns: {
      seq: {
        type: postgres ? 'bigint' : 'integer',
        primary: true,
        generated: 'increment',
        transformer: { to: (value: unknown) => value, from: (value: unknown) => (value == null ? value : String(value)) },
      },
      id: { type: postgres ? 'uuid' : 'varchar', unique: true },
      subject: { type: 'text' },
      payloadType: { name: 'payload_type', type: 'text' },
      payload: { type: postgres ? 'bytea' : 'blob' },
      occurredAt: { name: 'occurred_at', type: postgres ? 'timestamptz' : 'datetime' },
      requestId: { name: 'request_id', type: 'text', nullable: true },
      actor: { type: 'text', nullable: true },
      projectId: { name: 'project_id', type: 'text', nullable: true },
    },
  });
}
