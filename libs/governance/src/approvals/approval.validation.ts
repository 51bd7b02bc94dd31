import { InvalidArgumentError } from '@trellis/platform';

/** What a caller asks approval for. */
export interface NewApproval {
  projectId: string;
  action: string;
  resource: string;
  details: Record<string, string>;
}

/** Limits on what a request may carry (in characters, as PostgreSQL counts them). */
export const APPROVAL_LIMITS = {
  projectId: 64,
  action: 128,
  resource: 512,
  detailEntries: 50,
  detailKey: 128,
  detailValue: 2048,
  comment: 2048,
} as const;

const ACTION = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

/** Characters as PostgreSQL counts them (code points), not UTF-16 units. */
function length(value: string): number {
  return [...value].length;
}

/** Throws InvalidArgumentError on `project_id` unless it is 1 to 64 characters. */
export function checkProjectId(projectId: string): void {
  if (projectId.length === 0) throw new InvalidArgumentError('is required', 'project_id');
  if (length(projectId) > APPROVAL_LIMITS.projectId) {
    throw new InvalidArgumentError(`must be at most ${APPROVAL_LIMITS.projectId} characters`, 'project_id');
  }
}

/** Throws InvalidArgumentError naming the first field of `input` that breaks the limits. */
export function checkNewApproval(input: NewApproval): void {
  checkProjectId(input.projectId);
  if (length(input.action) > APPROVAL_LIMITS.action || !ACTION.test(input.action)) {
    throw new InvalidArgumentError(
      `must be lowercase dotted tokens such as registry.alias.set, at most ${APPROVAL_LIMITS.action} characters`,
      'action',
    );
  }
  if (input.resource.length === 0) throw new InvalidArgumentError('is required', 'resource');
  if (length(input.resource) > APPROVAL_LIMITS.resource) {
    throw new InvalidArgumentError(`must be at most ${APPROVAL_LIMITS.resource} characters`, 'resource');
  }
  checkDetails(input.details);
}

function checkDetails(details: Record<string, string>): void {
  const entries = Object.entries(details);
  if (entries.length > APPROVAL_LIMITS.detailEntries) {
    throw new InvalidArgumentError(`must have at most ${APPROVAL_LIMITS.detailEntries} entries`, 'details');
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || length(key) > APPROVAL_LIMITS.detailKey) {
      throw new InvalidArgumentError(`keys must be 1 to ${APPROVAL_LIMITS.detailKey} characters`, 'details');
    }
    if (length(value) > APPROVAL_LIMITS.detailValue) {
      throw new InvalidArgumentError(`value of "${key}" must be at most ${APPROVAL_LIMITS.detailValue} characters`, 'details');
    }
  }
}

/** Throws InvalidArgumentError on `approval_id` if it is empty. */
export function checkApprovalId(approvalId: string): void {
  if (approvalId.length === 0) throw new InvalidArgumentError('is required', 'approval_id');
}

/** Throws InvalidArgumentError on `comment` if it is longer than 2048 characters. */
export function checkComment(comment: string): void {
  if (length(comment) > APPROVAL_LIMITS.comment) {
    throw new InvalidArgumentError(`must be at most ${APPROVAL_LIMITS.comment} characters`, 'comment');
  }
}
