import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError } from '@trellis/platform';
import { ApprovalSchema, ApprovalState, type Approval } from '@trellis/proto';
import type { ApprovalEntity, ApprovalStateName } from './approval.entity';

const STATES: Record<ApprovalStateName, ApprovalState> = {
  pending: ApprovalState.PENDING,
  approved: ApprovalState.APPROVED,
  rejected: ApprovalState.REJECTED,
};

/** The stored state a list filters on; null for UNSPECIFIED (every state), INVALID_ARGUMENT on `state` for unknown values. */
export function stateFromProto(state: ApprovalState): ApprovalStateName | null {
  if (state === ApprovalState.UNSPECIFIED) return null;
  const name = (Object.keys(STATES) as ApprovalStateName[]).find((key) => STATES[key] === state);
  if (!name) throw new InvalidArgumentError(`unknown state ${state}`, 'state');
  return name;
}

/** The proto of a stored approval request. */
export function approvalToProto(approval: ApprovalEntity): Approval {
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
