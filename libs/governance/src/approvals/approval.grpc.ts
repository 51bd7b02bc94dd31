import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, InvalidArgumentError, Requires } from '@trellis/platform';
import {
  ApprovalSchema,
  ApprovalState,
  ApproveResponseSchema,
  GetApprovalResponseSchema,
  ListApprovalsResponseSchema,
  RejectResponseSchema,
  RequestApprovalResponseSchema,
  type Approval,
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
import type { ApprovalEntity, ApprovalStateName } from './approval.entity';
import { APPROVAL_KIND, ApprovalDomainService } from './approval.service';

const STATES: Record<ApprovalStateName, ApprovalState> = {
  pending: ApprovalState.PENDING,
  approved: ApprovalState.APPROVED,
  rejected: ApprovalState.REJECTED,
};

/** Handlers of `trellis.governance.v1.ApprovalService`: map proto to domain and back. */
@Controller()
export class ApprovalGrpc {
  constructor(private readonly approvals: ApprovalDomainService) {}

  @GrpcMethod('ApprovalService', 'RequestApproval')
  @Requires('create', APPROVAL_KIND)
  async requestApproval(request: RequestApprovalRequest, metadata: Metadata): Promise<RequestApprovalResponse> {
    const caller = callerOf(metadata);
    const { projectId, action, resource, details } = request;
    const approval = await this.approvals.request(caller, { projectId, action, resource, details });
    return create(RequestApprovalResponseSchema, { approval: toProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'Approve')
  @Requires('update', APPROVAL_KIND)
  async approve(request: ApproveRequest, metadata: Metadata): Promise<ApproveResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.approve(caller, request.approvalId, request.comment);
    return create(ApproveResponseSchema, { approval: toProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'Reject')
  @Requires('update', APPROVAL_KIND)
  async reject(request: RejectRequest, metadata: Metadata): Promise<RejectResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.reject(caller, request.approvalId, request.comment);
    return create(RejectResponseSchema, { approval: toProto(approval) });
  }

  @GrpcMethod('ApprovalService', 'GetApproval')
  @Requires('read', APPROVAL_KIND)
  async getApproval(request: GetApprovalRequest, metadata: Metadata): Promise<GetApprovalResponse> {
    const caller = callerOf(metadata);
    const approval = await this.approvals.get(caller, request.approvalId);
    return create(GetApprovalResponseSchema, { approval: toProto(approval) });
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
    return create(ListApprovalsResponseSchema, { approvals: page.approvals.map(toProto), nextPageToken: page.nextPageToken });
  }
}

function stateFromProto(state: ApprovalState): ApprovalStateName | null {
  if (state === ApprovalState.UNSPECIFIED) return null;
  const name = (Object.keys(STATES) as ApprovalStateName[]).find((key) => STATES[key] === state);
  if (!name) throw new InvalidArgumentError(`unknown state ${state}`, 'state');
  return name;
}

function toProto(approval: ApprovalEntity): Approval {
  return create(ApprovalSchema, {
    id: approval.id,
    projectId: approval.projectId,
    action: approval.action,
    resource: approval.resource,
    details: approval.details,
    requesterId: approval.requesterId,
    state: STATES[approval.state],
    deciderId: approval.deciderId ?? '',
    comment: approval.comment ?? '',
    createTime: timestampFromDate(approval.createdAt),
    decideTime: approval.decidedAt ? timestampFromDate(approval.decidedAt) : undefined,
  });
}
