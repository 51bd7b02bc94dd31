import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  ApproveResponseSchema,
  GetApprovalResponseSchema,
  ListApprovalsResponseSchema,
  RejectResponseSchema,
  RequestApprovalResponseSchema,
  type ApproveRequest,
  type ApproveResponse,
  type GetApprovalRequest,
  type GetApprovalResponse,
  type ListApprovalsRequest,
  type ListApprovalsResponse,
  type RejectRequest,
  type RejectResponse,
  type RequestApprovalRequest,
  type RequestApprovalResponse,
} from '@trellis/proto';
import { approvalToProto, stateFromProto } from './approval.mapping';
import { APPROVAL_KIND, ApprovalService } from './approval.service';

/** Handlers of `trellis.governance.v1.ApprovalService`: map proto to domain and back. */
@Controller()
export class ApprovalGrpc {
  constructor(private readonly approvals: ApprovalService) {}

  @GrpcMethod('ApprovalService', 'RequestApproval')
  @Requires('create', APPROVAL_KIND)
  async requestApproval(request: RequestApprovalRequest, metadata: Metadata): Promise<RequestApprovalResponse> {
    const caller = callerOf(metadata);
    const { projectId, action, resource, details } = request;
    const approval = await this.approvals.request(caller, { projectId, action, resource, details });
    return create(RequestApprovalResponseSchema, { approval: approvalToProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'Approve')
  @Requires('update', APPROVAL_KIND)
  async approve(request: ApproveRequest, metadata: Metadata): Promise<ApproveResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.approve(caller, request.approvalId, request.comment);
    return create(ApproveResponseSchema, { approval: approvalToProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'Reject')
  @Requires('update', APPROVAL_KIND)
  async reject(request: RejectRequest, metadata: Metadata): Promise<RejectResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.reject(caller, request.approvalId, request.comment);
    return create(RejectResponseSchema, { approval: approvalToProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'GetApproval')
  @Requires('read', APPROVAL_KIND)
  async getApproval(request: GetApprovalRequest, metadata: Metadata): Promise<GetApprovalResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.get(caller, request.approvalId);
    return create(GetApprovalResponseSchema, { approval: approvalToProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'ListApprovals')
  @Requires('read', APPROVAL_KIND)
  async listApprovals(request: ListApprovalsRequest, metadata: Metadata): Promise<ListApprovalsResponse> {
    const caller = callerOf(metadata);
    const page = await this.approvals.list(caller, {
      projectId: request.projectId,
      state: stateFromProto(request.state),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(ListApprovalsResponseSchema, { approvals: page.approvals.map(approvalToProto), nextPageToken: page.nextPageToken });
  }
}
