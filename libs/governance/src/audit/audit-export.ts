import { create, toJsonString } from '@bufbuild/protobuf';
import { AuditCheckpointSchema, AuditRecordSchema, ExportAuditRecordsResponseSchema, type ExportAuditRecordsResponse } from '@trellis/proto';
import { drainedStream, type DrainableCall } from '@trellis/platform';
import type { Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { headAndLastCheckpoint, storedCheckpoints, type StoredCheckpoint } from './audit-checkpoint.repository';
import { auditCheckpointOf, auditRecordOf } from './audit.mapping';
import { findRecords, type RecordFilter, type StoredRecord } from './audit-record.repository';
import { readAhead } from './read-ahead';

/** One JSON Lines line: the record in protobuf's JSON mapping, every field present, newline-terminated. */
export function jsonLineOf(record: StoredRecord): string {
  return `${toJsonString(AuditRecordSchema, auditRecordOf(record), { alwaysEmitImplicit: true })}\n`;
}

/** One JSON Lines line of a checkpoint: `{"checkpoint": <AuditCheckpoint in protobuf's JSON mapping>}`, newline-terminated. */
export function checkpointLineOf(checkpoint: StoredCheckpoint): string {
  return `{"checkpoint":${toJsonString(AuditCheckpointSchema, auditCheckpointOf(checkpoint), { alwaysEmitImplicit: true })}}\n`;
}

/**
 * Streams the records matching `filter` that exist when the export starts, one line per message,
 * each checkpoint that exists then right after the record it covers (or where that record would
 * be, when the filter leaves it out). Reads `batchSize` records at a time, each line sent once
 * `call` has drained the last, so a slow client holds about two batches in memory. Stops reading
 * when the subscriber unsubscribes (the client cancelled).
 */
export function exportLines(dataSource: DataSource, filter: RecordFilter, call?: DrainableCall, batchSize = 500): Observable<ExportAuditRecordsResponse> {
  return drainedStream(call, async function* (signal) {
    const { head, lastNumber } = await dataSource.transaction((manager) => headAndLastCheckpoint(manager));
    const upTo = head?.sequence ?? 0n;
    const line = (text: string) => create(ExportAuditRecordsResponseSchema, { line: text });
    const checkpoints = storedCheckpoints(dataSource, lastNumber, batchSize);
    const records = readAhead((after) => dataSource.transaction((manager) => findRecords(manager, filter, { after, limit: batchSize, upTo })), (record) => record.sequence, batchSize);
    try {
      let checkpoint = await checkpoints.next();
      for await (const record of records) {
        if (signal.aborted) return;
        for (; !checkpoint.done && checkpoint.value.sequence < record.sequence; checkpoint = await checkpoints.next()) yield line(checkpointLineOf(checkpoint.value));
        yield line(jsonLineOf(record));
      }
      for (; !checkpoint.done && !signal.aborted; checkpoint = await checkpoints.next()) yield line(checkpointLineOf(checkpoint.value));
    } finally {
      await checkpoints.return(undefined);
    }
  });
}
