import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow, type Timestamp } from '@bufbuild/protobuf/wkt';
import { AuditCheckpointSchema, AuditEventSchema, AuditRecordSchema, OutcomeSchema, type AuditCheckpoint, type AuditEvent, type AuditRecord } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import type { StoredRecord } from './audit-record.repository';
import type { AuditFields } from './canonical';

/** An audit event to append: a `trellis.audit.v1.AuditEvent` or its init shape. */
export type AuditEventInput = MessageInitShape<typeof AuditEventSchema>;

const MICROS_PER_SECOND = 1_000_000n;

/**
 * The fields the chain stores for an event. What the databases could not store exactly is made
 * storable first, so the hash is over what is kept: NUL characters (PostgreSQL text refuses them)
 * and unpaired UTF-16 surrogates become U+FFFD, and `event_time` is cut to whole microseconds.
 * An event without an id gets a new UUID; one without `event_time` gets the current time.
 */
export function auditFieldsOf(input: AuditEventInput): AuditFields {
  const event = create(AuditEventSchema, input);
  return {
    eventId: storable(event.id) || randomUUID(),
    service: storable(event.service),
    actor: storable(event.actor),
    action: storable(event.action),
    method: storable(event.method),
    resource: storable(event.resource),
    projectId: storable(event.projectId),
    outcome: OutcomeSchema.value[event.outcome]?.name ?? String(event.outcome),
    reason: storable(event.reason),
    requestId: storable(event.requestId),
    occurredAtUs: microsOf(event.eventTime ?? timestampNow()),
    clientAddress: storable(event.clientAddress),
    onBehalfOf: storable(event.onBehalfOf),
  };
}

/** The event a stored record describes. */
export function auditEventOf(fields: AuditFields): AuditEvent {
  return create(AuditEventSchema, {
    id: fields.eventId,
    service: fields.service,
    actor: fields.actor,
    action: fields.action,
    method: fields.method,
    resource: fields.resource,
    projectId: fields.projectId,
    outcome: outcomeOf(fields.outcome),
    reason: fields.reason,
    requestId: fields.requestId,
    eventTime: timestampOf(fields.occurredAtUs),
    clientAddress: fields.clientAddress,
    onBehalfOf: fields.onBehalfOf ?? '',
  });
}

/** The `trellis.governance.v1.AuditRecord` of a stored record. */
export function auditRecordOf(record: StoredRecord): AuditRecord {
  return create(AuditRecordSchema, {
    sequence: record.sequence,
    event: auditEventOf(record.fields),
    previousHash: record.previousHash,
    hash: record.hash,
  });
}

/** The `trellis.governance.v1.AuditCheckpoint` of a stored checkpoint. */
export function auditCheckpointOf(checkpoint: StoredCheckpoint): AuditCheckpoint {
  return create(AuditCheckpointSchema, {
    number: checkpoint.number,
    sequence: checkpoint.sequence,
    headHash: checkpoint.headHash,
    createTime: timestampOf(checkpoint.createdAtUs),
    keyId: checkpoint.keyId,
    mac: checkpoint.mac,
  });
}

/** Whole microseconds since the Unix epoch of a Timestamp (rounded down). */
export function microsOf(timestamp: Timestamp): bigint {
  return timestamp.seconds * MICROS_PER_SECOND + BigInt(Math.floor(timestamp.nanos / 1000));
}

/** The Timestamp of a number of microseconds since the Unix epoch. */
export function timestampOf(micros: bigint): Timestamp {
  let seconds = micros / MICROS_PER_SECOND;
  let rest = micros % MICROS_PER_SECOND;
  // BigInt division truncates toward zero; a Timestamp's nanos are never negative.
  if (rest < 0n) {
    seconds -= 1n;
    rest += MICROS_PER_SECOND;
  }
  return { $typeName: 'google.protobuf.Timestamp', seconds, nanos: Number(rest) * 1000 };
}

function outcomeOf(stored: string): number {
  const named = OutcomeSchema.values.find((value) => value.name === stored);
  if (named) return named.number;
  return /^-?\d+$/.test(stored) ? Number(stored) : 0;
}

function storable(text: string): string {
  return text.replace(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
