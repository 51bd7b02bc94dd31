import type { Metadata } from '@grpc/grpc-js';
import { create, toJsonString } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, FailedPreconditionError, decodePageToken, pageOf, pageSizeOf, PermissionDeniedError, Requires, SEQUENCE_POSITION, type DrainableCall } from '@trellis/platform';
import {
  AuditFilterSchema,
  CreateAuditCheckpointResponseSchema,
  ListAuditRecordsResponseSchema,
  VerifyAuditChainResponseSchema,
  type CreateAuditCheckpointResponse,
  type ExportAuditRecordsRequest,
  type ExportAuditRecordsResponse,
  type ListAuditRecordsRequest,
  type ListAuditRecordsResponse,
  type VerifyAuditChainResponse,
} from '@trellis/proto';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { AuditCheckpointer } from './audit-checkpointer';
import { auditCheckpointOf, auditRecordOf } from './audit-fields';
import { exportLines } from './audit-export';
import { recordFilterFor } from './audit-filter';
import { findRecords } from './audit-record.repository';
import { CheckpointKeySource } from './checkpoint-key';
import { verifyAuditChain } from './verify';

/** AuditService handlers: list, export and verify governance's audit chain, and sign its head. */
@Controller()
export class AuditGrpc {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: CheckpointKeySource,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  @GrpcMethod('AuditService', 'ListAuditRecords')
  @Requires('read', 'Audit')
  async listAuditRecords(request: ListAuditRecordsRequest, metadata: Metadata): Promise<ListAuditRecordsResponse> {
    const caller = callerOf(metadata);
    const pageSize = pageSizeOf(request.pageSize);
    const query = { filter: request.filter ? toJsonString(AuditFilterSchema, request.filter) : '' };
    const after = BigInt(decodePageToken(request.pageToken, query, SEQUENCE_POSITION) ?? 0);
    const filter = recordFilterFor(request.filter, caller);
    const rows = await this.dataSource.transaction((manager) => findRecords(manager, filter, { after, limit: pageSize + 1 }));
    const { items, nextPageToken } = pageOf(rows, pageSize, (record) => String(record.sequence), query);
    return create(ListAuditRecordsResponseSchema, { records: items.map(auditRecordOf), nextPageToken });
  }

  @GrpcMethod('AuditService', 'ExportAuditRecords')
  @Requires('read', 'Audit')
  exportAuditRecords(request: ExportAuditRecordsRequest, metadata: Metadata, call: DrainableCall): Observable<ExportAuditRecordsResponse> {
    return exportLines(this.dataSource, recordFilterFor(request.filter, callerOf(metadata)), call);
  }

  @GrpcMethod('AuditService', 'VerifyAuditChain')
  @Requires('read', 'Audit')
  async verifyAuditChain(_request: unknown, metadata: Metadata): Promise<VerifyAuditChainResponse> {
    assertOrgAdmin(metadata, 'verify the audit chain');
    const verdict = await verifyAuditChain(this.dataSource, await this.keys.key());
    return create(VerifyAuditChainResponseSchema, { ...verdict, problem: verdict.problem ?? '' });
  }

  @GrpcMethod('AuditService', 'CreateAuditCheckpoint')
  @Requires('create', 'Audit')
  async createAuditCheckpoint(_request: unknown, metadata: Metadata): Promise<CreateAuditCheckpointResponse> {
    assertOrgAdmin(metadata, 'checkpoint the audit chain');
    const checkpoint = await this.checkpointer.checkpointNow();
    if (!checkpoint) throw new FailedPreconditionError('the audit chain has no records yet: there is nothing to checkpoint');
    return create(CreateAuditCheckpointResponseSchema, { checkpoint: auditCheckpointOf(checkpoint) });
  }
}

function assertOrgAdmin(metadata: Metadata, what: string): void {
  const caller = callerOf(metadata);
  if (!caller.principal?.orgAdmin) throw new PermissionDeniedError(`${caller.principal?.id ?? 'anonymous'} may not ${what}: only an org admin may`);
}
