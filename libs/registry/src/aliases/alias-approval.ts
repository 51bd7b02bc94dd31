import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { FailedPreconditionError, forwardAs, PermissionDeniedError, ServiceClients, type Caller, type DomainError } from '@trellis/platform';
import { ApprovalServiceDesc, ApprovalState, type Approval } from '@trellis/proto';
import { aliasResourceName } from '../models/model-access';

/** The governance action that allows setting or moving a protected alias. */
export const SET_ACTION = 'registry.alias.set';
/** The governance action that allows deleting a protected alias. */
export const DELETE_ACTION = 'registry.alias.delete';

/** The change a protected alias needs an approval for. */
export interface ProtectedChange {
  projectId: string;
  model: string;
  alias: string;
  /** The version a set points the alias at; absent for a delete. */
  version?: number;
}

/** What a request for approval of `change` must say, in the words the error messages use. */
export function approvalWanted(change: ProtectedChange): { action: string; resource: string; details: Record<string, string> } {
  return {
    action: change.version === undefined ? DELETE_ACTION : SET_ACTION,
    resource: aliasResourceName(change.projectId, change.model, change.alias),
    details: change.version === undefined ? {} : { version: String(change.version) },
  };
}

/** The error for a protected change attempted without an approval, saying how to get one. */
export function approvalMissing(change: ProtectedChange): FailedPreconditionError {
  const wanted = approvalWanted(change);
  const detail = change.version === undefined ? '' : ` with detail version=${change.version}`;
  return new FailedPreconditionError(
    `alias ${change.alias} of model ${change.model} is protected: request an approval of ${wanted.action} for ${wanted.resource}${detail} and pass its approval_id`,
    { reason: 'APPROVAL_REQUIRED', resource: wanted.resource },
  );
}

/**
 * Why `approval` does not allow `change`, or undefined when it does: it must be APPROVED, in the
 * model's project, for the action and resource of the change, and for a set, approve the very
 * version the alias is set to. A pending approval may still be granted (FAILED_PRECONDITION);
 * any other mismatch means it allows something else (PERMISSION_DENIED).
 */
export function approvalProblem(approval: Approval, change: ProtectedChange): DomainError | undefined {
  const wanted = approvalWanted(change);
  const id = approval.id;
  const mismatch = (message: string) => new PermissionDeniedError(message, { reason: 'APPROVAL_MISMATCH', resource: wanted.resource });
  if (approval.projectId !== change.projectId) return mismatch(`approval ${id} is for project ${approval.projectId}, not ${change.projectId}`);
  if (approval.action !== wanted.action) return mismatch(`approval ${id} approves ${approval.action}; this change needs ${wanted.action}`);
  if (approval.resource !== wanted.resource) return mismatch(`approval ${id} is for ${approval.resource}; this change needs one for ${wanted.resource}`);
  if (change.version !== undefined && approval.details['version'] !== String(change.version)) {
    const approved = approval.details['version'] === undefined ? 'no version' : `version ${approval.details['version']}`;
    return mismatch(`approval ${id} approves ${approved}; this sets ${change.alias} to version ${change.version}`);
  }
  if (approval.state === ApprovalState.PENDING) {
    return new FailedPreconditionError(`approval ${id} is still pending: someone other than its requester must approve it first`, { reason: 'APPROVAL_PENDING', resource: wanted.resource });
  }
  if (approval.state !== ApprovalState.APPROVED) return new PermissionDeniedError(`approval ${id} was rejected; request a new one`, { reason: 'APPROVAL_REJECTED', resource: wanted.resource });
  return undefined;
}

/** Reads approvals from governance, as the caller, and checks them against a protected change. */
@Injectable()
export class ApprovalCheck {
  constructor(private readonly clients: ServiceClients) {}

  /** Throws unless the approval allows the change; it is not marked used here (see AliasService). */
  async verify(caller: Caller, approvalId: string, change: ProtectedChange): Promise<void> {
    let approval: Approval | undefined;
    try {
      approval = (await this.clients.of(ApprovalServiceDesc, 'governance').getApproval({ approvalId }, forwardAs(caller))).approval;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== status.NOT_FOUND && code !== status.INVALID_ARGUMENT) throw error;
    }
    if (!approval) {
      throw new FailedPreconditionError(`approval ${approvalId} does not exist in governance, or you may not read it`, {
        reason: 'APPROVAL_NOT_FOUND',
        resource: approvalWanted(change).resource,
      });
    }
    const problem = approvalProblem(approval, change);
    if (problem) throw problem;
  }
}
