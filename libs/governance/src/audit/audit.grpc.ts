import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires, type DrainableCall } from '@trellis/platform';
import {
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
import { auditCheckpointOf, auditRecordOf } from './audit.mapping';
import { AuditService } from './audit.service';

/** AuditService handlers: list, export and verify governance's audit chain, and sign its head. */
@Controller()
export class AuditGrpc {
  constructor(private readonly audit: AuditService) {}

  @GrpcMethod('AuditService', 'ListAuditRecords')
  @Requires('read', 'Audit')
  async listAuditRecords(request: ListAuditRecordsRequest, metadata: Metadata): Promise<ListAuditRecordsResponse> {
    const page = await this.audit.listRecords(callerOf(metadata), request.filter, request);
    return create(ListAuditRecordsResponseSchema, { records: page.records.map(auditRecordOf), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('AuditService', 'ExportAuditRecords')
  @Requires('read', 'Audit')
  exportAuditRecords(request: ExportAuditRecordsRequest, metadata: Metadata, call: DrainableCall): Observable<ExportAuditRecordsResponse> {
    return this.audit.exportRecords(callerOf(metadata), request.filter, call);
  }

  @GrpcMethod('AuditService', 'VerifyAuditChain')
  @Requires('read', 'Audit')
  async verifyAuditChain(_request: unknown, metadata: Metadata): Promise<VerifyAuditChainResponse> {
    const verdict = await this.audit.verify(callerOf(metadata));
    return create(VerifyAuditChainResponseSchema, { ...verdict, problem: verdict.problem ?? '' });
  }

  @GrpcMethod('AuditService', 'CreateAuditCheckpoint')
  @Requires('create', 'Audit')
  async createAuditCheckpoint(_request: unknown, metadata: Metadata): Promise<CreateAuditCheckpointResponse> {
    const checkpoint = await this.audit.checkpoint(callerOf(metadata));
    return create(CreateAuditCheckpointResponseSchema, { checkpoint: auditCheckpointOf(checkpoint) });
  }
}
