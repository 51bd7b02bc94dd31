import { toJsonString } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { decodePageToken, FailedPreconditionError, pageOf, pageSizeOf, SEQUENCE_POSITION, type Caller, type DrainableCall } from '@trellis/platform';
import { AuditFilterSchema, type AuditFilter, type ExportAuditRecordsResponse } from '@trellis/proto';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import { AuditCheckpointer } from './audit-checkpointer';
import { exportLines } from './audit-export';
import { recordFilterFor } from './audit-filter.parser';
import { findRecords, type StoredRecord } from './audit-record.repository';
import { CheckpointKeySource } from './checkpoint-key';
import { verifyAuditChain, type ChainVerdict } from './verify';

/** One page of audit records, in sequence order. */
export interface AuditRecordPage {
  records: StoredRecord[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * Reading governance's audit chain as a caller may: only the projects where they may read
 * `Audit`; verifying the whole chain and signing its head only for org admins.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: CheckpointKeySource,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  /** A page of the records matching `filter` that the caller may read. */
  async listRecords(caller: Caller, filter: AuditFilter | undefined, page: { pageSize: number; pageToken: string }): Promise<AuditRecordPage> {
    const pageSize = pageSizeOf(page.pageSize);
    const query = { filter: filter ? toJsonString(AuditFilterSchema, filter) : '' };
    const after = BigInt(decodePageToken(page.pageToken, query, SEQUENCE_POSITION) ?? 0);
    const recordFilter = recordFilterFor(filter, caller);
    const rows = await this.dataSource.transaction((manager) => findRecords(manager, recordFilter, { after, limit: pageSize + 1 }));
    const { items, nextPageToken } = pageOf(rows, pageSize, (record) => String(record.sequence), query);
    return { records: items, nextPageToken };
  }

  /** The records matching `filter` that the caller may read, and the checkpoints, as JSON Lines (see {@link exportLines}). */
  exportRecords(caller: Caller, filter: AuditFilter | undefined, call: DrainableCall): Observable<ExportAuditRecordsResponse> {
    return exportLines(this.dataSource, recordFilterFor(filter, caller), call);
  }

  /** Checks the whole chain against its hashes, head and signed checkpoints. */
  async verify(caller: Caller): Promise<ChainVerdict> {
    caller.assertOrgAdmin('verify the audit chain');
    return verifyAuditChain(this.dataSource, await this.keys.key());
  }

  /** Signs the chain's head now and returns the checkpoint that covers it. */
  async checkpoint(caller: Caller): Promise<StoredCheckpoint> {
    caller.assertOrgAdmin('checkpoint the audit chain');
    const checkpoint = await this.checkpointer.checkpointNow();
    if (!checkpoint) throw new FailedPreconditionError('the audit chain has no records yet: there is nothing to checkpoint', { reason: 'AUDIT_CHAIN_EMPTY' });
    return checkpoint;
  }
}
