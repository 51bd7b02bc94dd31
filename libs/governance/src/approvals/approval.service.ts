import { Injectable } from '@nestjs/common';
import {
  Caller,
  FailedPreconditionError,
  NotFoundError,
  AuditRecorder,
  decodePageToken,
  pageOf,
  pageSizeOf,
  SEQUENCE_POSITION,
  PermissionDeniedError,
  resourceName,
  UnauthenticatedError,
} from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { ApprovalEntity, type ApprovalStateName } from './approval.entity';
import { ApprovalRepository } from './approval.repository';
import { checkApprovalId, checkComment, checkNewApproval, checkProjectId, type NewApproval } from './approval.validation';

/** Resource kind of approvals in permission rules. */
export const APPROVAL_KIND = 'Approval';

/** Which of a project's approvals to list, and which page. */
export interface ApprovalListQuery {
  projectId: string;
  /** Only requests in this state; null for all. */
  state: ApprovalStateName | null;
  /** 0 means 100; at most 1000. */
  pageSize: number;
  /** `nextPageToken` of the previous page, or empty for the first. */
  pageToken: string;
}

/** One page of approvals, newest first. */
export interface ApprovalPage {
  approvals: ApprovalEntity[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * Four-eyes approvals: anyone who may create approvals in a project asks; someone else who may
 * update them there decides. The requester may reject (withdraw) their own request but never
 * approve it. Each change is written with its audit event in one transaction.
 */
@Injectable()
export class ApprovalService {
  constructor(
    private readonly repository: ApprovalRepository,
    private readonly audit: AuditRecorder,
  ) {}

  /** Stores a pending request by the caller. */
  async request(caller: Caller, input: NewApproval): Promise<ApprovalEntity> {
    checkProjectId(input.projectId);
    caller.assert('create', APPROVAL_KIND, { projectId: input.projectId });
    checkNewApproval(input);
    const now = new Date();
    const approval = {
      id: randomUUID(),
      projectId: input.projectId,
      action: input.action,
      resource: input.resource,
      details: { ...input.details },
      requesterId: principalId(caller),
      state: 'pending' as const,
      deciderId: null,
      comment: null,
      createdAt: now,
      decidedAt: null,
    };
    return this.repository.transaction(async (tx) => {
      const stored = await this.repository.insert(tx, approval);
      await this.audit.recordIn(tx, caller, { id: stored.id });
      return stored;
    });
  }

  /** Approves a pending request; never the caller's own. */
  approve(caller: Caller, approvalId: string, comment: string): Promise<ApprovalEntity> {
    return this.decide(caller, approvalId, 'approved', comment);
  }

  /** Rejects a pending request; the requester may reject their own to withdraw it. */
  reject(caller: Caller, approvalId: string, comment: string): Promise<ApprovalEntity> {
    return this.decide(caller, approvalId, 'rejected', comment);
  }

  /** The request, if the caller may read it; NotFoundError otherwise, so ids of other projects do not leak. */
  async get(caller: Caller, approvalId: string): Promise<ApprovalEntity> {
    checkApprovalId(approvalId);
    const approval = await this.repository.findById(approvalId);
    if (!approval || !caller.can('read', APPROVAL_KIND, { projectId: approval.projectId })) {
      throw approvalNotFound(approvalId);
    }
    return approval;
  }

  /** A page of the project's requests, newest first. */
  async list(caller: Caller, query: ApprovalListQuery): Promise<ApprovalPage> {
    checkProjectId(query.projectId);
    caller.assert('read', APPROVAL_KIND, { projectId: query.projectId });
    const limit = pageSizeOf(query.pageSize);
    const filter = { projectId: query.projectId, state: query.state };
    const position = decodePageToken(query.pageToken, filter, SEQUENCE_POSITION);
    const beforeSeq = position === undefined ? undefined : Number(position);
    const rows = await this.repository.page({ ...filter, beforeSeq, limit: limit + 1 });
    const { items, nextPageToken } = pageOf(rows, limit, (approval) => String(approval.seq), filter);
    return { approvals: items, nextPageToken };
  }

  private async decide(
    caller: Caller,
    approvalId: string,
    state: 'approved' | 'rejected',
    comment: string,
  ): Promise<ApprovalEntity> {
    checkComment(comment);
    const current = await this.get(caller, approvalId);
    caller.assert('update', APPROVAL_KIND, { projectId: current.projectId, id: current.id });
    const deciderId = principalId(caller);
    if (state === 'approved' && current.requesterId === deciderId) {
      throw new PermissionDeniedError('you requested this approval; someone else must approve it', { reason: 'APPROVAL_BY_REQUESTER', resource: approvalResourceName(current) });
    }
    if (current.state !== 'pending') throw notPending(current, state);
    const now = new Date();
    return this.repository.transaction(async (tx) => {
      const won = await this.repository.decide(tx, approvalId, { state, deciderId, comment, decidedAt: now });
      const decided = await this.repository.findById(approvalId, tx);
      if (!decided) throw approvalNotFound(approvalId);
      if (!won) throw notPending(decided, state);
      await this.audit.recordIn(tx, caller, { id: decided.id });
      return decided;
    });
  }
}

function notPending(approval: ApprovalEntity, wanted: 'approved' | 'rejected'): FailedPreconditionError {
  return new FailedPreconditionError(`approval ${approval.id} is already ${approval.state}; only a pending request can be ${wanted}`, {
    reason: 'APPROVAL_NOT_PENDING',
    resource: approvalResourceName(approval),
  });
}

/** Names no project: a request the caller may not read must not tell which project it is in. */
function approvalNotFound(approvalId: string): NotFoundError {
  return new NotFoundError(`approval ${approvalId} not found`, { reason: 'APPROVAL_NOT_FOUND' });
}

function approvalResourceName(approval: ApprovalEntity): string {
  return resourceName(['projects', approval.projectId], ['approvals', approval.id]);
}

function principalId(caller: Caller): string {
  const id = caller.principal?.id;
  if (!id) throw new UnauthenticatedError('this call needs a signed-in caller');
  return id;
}
