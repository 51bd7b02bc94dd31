import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { auditFieldsOf, type AuditEventInput } from './audit.mapping';
import { insertRecords, knownEventIds, lockChainHead, moveChainHead, type StoredRecord } from './audit-record.repository';
import { chainHash, type AuditFields } from './canonical';

/** What {@link AuditChain.append} added: one entry per stored event. */
export interface AppendedRecord {
  sequence: bigint;
  eventId: string;
  hash: string;
}

/**
 * Appends audit events to governance's hash chain. Used by the ingest of other services' events
 * and by governance itself, to audit its own changes in the transaction that makes them.
 */
@Injectable()
export class AuditChain {
  /**
   * Appends `events` in order, inside the transaction of `manager` (the one passed to
   * `dataSource.transaction(...)`'s callback): they are in the chain if and only if it commits.
   * Appenders take turns on the chain head (a row lock on PostgreSQL), so sequences never repeat
   * or skip and each record chains to the one before. An event whose id the chain already holds,
   * or that came earlier in the same call, is skipped, so appending is idempotent per event id.
   * Hashing a batch in one call is far cheaper per event than one call per event.
   *
   * @returns the records added, in order; skipped events are not listed.
   * @throws if `manager` has no open transaction.
   */
  async append(manager: EntityManager, events: readonly AuditEventInput[]): Promise<AppendedRecord[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditChain.append needs the EntityManager of an open transaction (dataSource.transaction(async (manager) => ...))');
    }
    if (events.length === 0) return [];
    const unique = new Map<string, AuditFields>();
    for (const event of events) {
      const fields = auditFieldsOf(event);
      if (!unique.has(fields.eventId)) unique.set(fields.eventId, fields);
    }
    const head = await lockChainHead(manager);
    const known = await knownEventIds(manager, [...unique.keys()]);
    const records: StoredRecord[] = [];
    let { sequence, hash } = head;
    for (const fields of unique.values()) {
      if (known.has(fields.eventId)) continue;
      const previousHash = hash;
      sequence += 1n;
      hash = chainHash(previousHash, fields);
      records.push({ sequence, fields, previousHash, hash });
    }
    if (records.length === 0) return [];
    await insertRecords(manager, records);
    await moveChainHead(manager, { sequence, hash });
    return records.map((record) => ({ sequence: record.sequence, eventId: record.fields.eventId, hash: record.hash }));
  }
}
