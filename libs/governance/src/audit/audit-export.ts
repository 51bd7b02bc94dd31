import { create, toJsonString } from '@bufbuild/protobuf';
import { AuditRecordSchema, ExportAuditRecordsResponseSchema, type ExportAuditRecordsResponse } from '@trellis/proto';
import { once } from 'node:events';
import { Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { auditRecordOf } from './audit-fields';
import { findRecords, readChainHead, type RecordFilter, type StoredRecord } from './audit-record.repository';

/** The part of a grpc-js server stream the export watches, to read no faster than the client takes. */
export interface DrainableCall extends NodeJS.EventEmitter {
  readonly writableNeedDrain: boolean;
}

/** One JSON Lines line: the record in protobuf's JSON mapping, every field present, newline-terminated. */
export function jsonLineOf(record: StoredRecord): string {
  return `${toJsonString(AuditRecordSchema, auditRecordOf(record), { alwaysEmitImplicit: true })}\n`;
}

/**
 * Streams the records matching `filter` that exist when the export starts, one line per message,
 * reading `batchSize` records at a time. The next batch is read only once `call` has drained what
 * it was given, so a slow client holds at most about one batch in memory. Stops reading when the
 * subscriber unsubscribes (the client cancelled).
 */
export function exportLines(dataSource: DataSource, filter: RecordFilter, call?: DrainableCall, batchSize = 500): Observable<ExportAuditRecordsResponse> {
  return new Observable<ExportAuditRecordsResponse>((subscriber) => {
    const stop = new AbortController();
    const run = async () => {
      const head = await dataSource.transaction((manager) => readChainHead(manager));
      const upTo = head?.sequence ?? 0n;
      let after = 0n;
      for (;;) {
        const batch = await dataSource.transaction((manager) => findRecords(manager, filter, { after, limit: batchSize, upTo }));
        if (stop.signal.aborted) return;
        for (const record of batch) subscriber.next(create(ExportAuditRecordsResponseSchema, { line: jsonLineOf(record) }));
        if (batch.length < batchSize) break;
        after = batch[batch.length - 1].sequence;
        while (call?.writableNeedDrain && !stop.signal.aborted) await once(call, 'drain', { signal: stop.signal });
      }
      subscriber.complete();
    };
    run().catch((error: unknown) => {
      if (!stop.signal.aborted) subscriber.error(error);
    });
    return () => stop.abort();
  });
}
