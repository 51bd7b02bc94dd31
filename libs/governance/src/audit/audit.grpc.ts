import { create } from '@bufbuild/protobuf';
import { Controller, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { Caller, CurrentCaller, PermissionDeniedError, Requires } from '@trellis/platform';
import {
  ListAuditRecordsResponseSchema,
  VerifyAuditChainResponseSchema,
  type ExportAuditRecordsRequest,
  type ExportAuditRecordsResponse,
  type ListAuditRecordsRequest,
  type ListAuditRecordsResponse,
  type VerifyAuditChainResponse,
} from '@trellis/proto';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { auditRecordOf } from './audit-fields';
import { exportLines, type DrainableCall } from './audit-export';
import { pageSizeOf, pageTokenAfter, recordFilterFor, sequenceAfter } from './audit-filter';
import { findRecords } from './audit-record.repository';
import { verifyAuditChain } from './verify';

/** The grpc-js call object of the current call (the third argument Nest hands a gRPC handler). */
const GrpcCall = createParamDecorator((_: unknown, context: ExecutionContext) => context.getArgByIndex<DrainableCall>(2));

/** AuditService handlers: list, export and verify governance's audit chain. */
@Controller()
export class AuditGrpc {
  constructor(private readonly dataSource: DataSource) {}

  @GrpcMethod('AuditService', 'ListAuditRecords')
  @Requires('read', 'Audit')
  async listAuditRecords(@Payload() request: ListAuditRecordsRequest, @CurrentCaller() caller: Caller): Promise<ListAuditRecordsResponse> {
    const pageSize = pageSizeOf(request.pageSize);
    const after = sequenceAfter(request.pageToken);
    const filter = recordFilterFor(request.filter, caller);
    const rows = await this.dataSource.transaction((manager) => findRecords(manager, filter, { after, limit: pageSize + 1 }));
    const page = rows.slice(0, pageSize);
    return create(ListAuditRecordsResponseSchema, {
      records: page.map(auditRecordOf),
      nextPageToken: rows.length > pageSize ? pageTokenAfter(page[page.length - 1].sequence) : '',
    });
  }

  @GrpcMethod('AuditService', 'ExportAuditRecords')
  @Requires('read', 'Audit')
  exportAuditRecords(
    @Payload() request: ExportAuditRecordsRequest,
    @CurrentCaller() caller: Caller,
    @GrpcCall() call: DrainableCall,
  ): Observable<ExportAuditRecordsResponse> {
    return exportLines(this.dataSource, recordFilterFor(request.filter, caller), call);
  }

  @GrpcMethod('AuditService', 'VerifyAuditChain')
  @Requires('read', 'Audit')
  async verifyAuditChain(@CurrentCaller() caller: Caller): Promise<VerifyAuditChainResponse> {
    if (!caller.principal?.orgAdmin) {
      throw new PermissionDeniedError(`${caller.principal?.id ?? 'anonymous'} may not verify the audit chain: only an org admin may`);
    }
    const verdict = await verifyAuditChain(this.dataSource);
    return create(VerifyAuditChainResponseSchema, {
      intact: verdict.intact,
      recordsChecked: verdict.recordsChecked,
      firstBadSequence: verdict.firstBadSequence,
      problem: verdict.problem ?? '',
    });
  }
}
