import { create, toJsonString } from '@bufbuild/protobuf';
import { AuditRecordSchema, ExportAuditRecordsResponseSchema, type ExportAuditRecordsResponse } from '@trellis/proto';
import { drainedStream, type DrainableCall } from '@trellis/platform';
import type { Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { auditRecordOf } from './audit-fields';
import { findRecords, readChainHead, type RecordFilter, type StoredRecord } from './audit-record.repository';

/** One JSON Lines line: the record in protobuf's JSON mapping, every field present, newline-terminated. */
export function jsonLineOf(record: StoredRecord): string {
  return `${toJsonString(AuditRecordSchema, auditRecordOf(record), { alwaysEmitImplicit: true })}\n`;
}

/**
 * Streams the records matching `filter` that exist when the export starts, one line per message,
 * reading `batchSize` records at a time, each line sent once `call` has drained the last, so a
 * slow client holds at most about one batch in memory. Stops reading when the
 * subscriber unsubscribes (the client cancelled).
 */
export function exportLines(dataSource: DataSource, filter: RecordFilter, call?: DrainableCall, batchSize = 500): Observable<ExportAuditRecordsResponse> {
  return drainedStream(call, async function* (signal) {
    const head = await dataSource.transaction((manager) => readChainHead(manager));
    const upTo = head?.sequence ?? 0n;
    let after = 0n;
    for (;;) {
      const batch = await dataSource.transaction((manager) => findRecords(manager, filter, { after, limit: batchSize, upTo }));
      if (signal.aborted) return;
      for (const record of batch) yield create(ExportAuditRecordsResponseSchema, { line: jsonLineOf(record) });
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].sequence;
    }
  });
}
