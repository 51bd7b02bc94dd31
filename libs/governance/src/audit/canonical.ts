import { createHash } from 'node:crypto';

/** `previous_hash` of the first record in the chain: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An audit event exactly as the chain stores and hashes it: one property per column of
 * `audit_records`, in canonical order.
 */
export interface AuditFields {
  eventId: string;
  service: string;
  actor: string;
  action: string;
  method: string;
  resource: string;
  projectId: string;
  /** The `trellis.audit.v1.Outcome` value's proto name (`OUTCOME_SUCCEEDED`), or its decimal number if unnamed. */
  outcome: string;
  reason: string;
  requestId: string;
  /** `event_time` in whole microseconds since the Unix epoch (UTC). */
  occurredAtUs: bigint;
  clientAddress: string;
  /** The user a service account acted for, or '' (or absent: every record made before the field existed). */
  onBehalfOf?: string;
}

/**
 * The canonical bytes of a record: the UTF-8 encoding of a JSON array of twelve or thirteen strings, without
 * whitespace, in this order:
 *
 * `[event_id, service, actor, action, method, resource, project_id, outcome, reason, request_id,
 * occurred_at_us, client_address]`, followed by `on_behalf_of` as a thirteenth string only when it
 * is not empty (so every record made before it existed keeps its hash)
 *
 * where `occurred_at_us` is the decimal integer of microseconds since the Unix epoch and `outcome`
 * is the stored outcome text. Strings are escaped as RFC 8785 (JCS) and ECMAScript's
 * `JSON.stringify` escape them (`"`, `\`, control characters; nothing else). Every value is taken
 * from the stored columns, so anyone holding a row can recompute its hash.
 */
export function canonicalBytes(fields: AuditFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      fields.eventId,
      fields.service,
      fields.actor,
      fields.action,
      fields.method,
      fields.resource,
      fields.projectId,
      fields.outcome,
      fields.reason,
      fields.requestId,
      fields.occurredAtUs.toString(),
      fields.clientAddress,
      ...(fields.onBehalfOf ? [fields.onBehalfOf] : []),
    ]),
    'utf8',
  );
}

/**
 * A record's hash: lowercase hex SHA-256 over the ASCII bytes of `previousHash` (64 lowercase hex
 * digits) followed by the record's {@link canonicalBytes}.
 */
export function chainHash(previousHash: string, fields: AuditFields): string {
  return createHash('sha256').update(previousHash, 'latin1').update(canonicalBytes(fields)).digest('hex');
}

/** What a checkpoint signs: the chain head at a moment, and the checkpoint's number. */
export interface CheckpointFields {
  number: bigint;
  sequence: bigint;
  headHash: string;
  createdAtUs: bigint;
}

/**
 * The bytes a checkpoint's MAC covers: the UTF-8 encoding of the JSON array, without whitespace,
 * `["trellis audit checkpoint v1", number, sequence, head_hash, created_at_us]`, the numbers as
 * decimal strings. Whoever holds the key can recompute a checkpoint's MAC from an export.
 */
export function checkpointBytes(fields: CheckpointFields): Buffer {
  return Buffer.from(
    JSON.stringify(['trellis audit checkpoint v1', fields.number.toString(), fields.sequence.toString(), fields.headHash, fields.createdAtUs.toString()]),
    'utf8',
  );
}
