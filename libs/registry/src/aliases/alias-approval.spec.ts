import { create } from '@bufbuild/protobuf';
import { FailedPreconditionError, PermissionDeniedError } from '@trellis/platform';
import { ApprovalSchema, ApprovalState } from '@trellis/proto';
import { approvalMissing, approvalProblem, type ProtectedChange } from './alias-approval';

const setChampion: ProtectedChange = { projectId: 'p1', model: 'churn', alias: 'champion', version: 3 };
const approved = (fields: { projectId?: string; action?: string; resource?: string; details?: Record<string, string>; state?: ApprovalState } = {}) =>
  create(ApprovalSchema, {
    id: 'a1',
    projectId: 'p1',
    action: 'registry.alias.set',
    resource: 'projects/p1/models/churn/aliases/champion',
    details: { version: '3' },
    state: ApprovalState.APPROVED,
    ...fields,
  });

describe('matching a governance approval to a protected alias change', () => {
  it('accepts an approved approval of exactly this change', () => {
    expect(approvalProblem(approved(), setChampion)).toBeUndefined();
    const deleting = { ...setChampion, version: undefined };
    expect(approvalProblem(approved({ action: 'registry.alias.delete', details: {} }), deleting)).toBeUndefined();
  });

  it.each([
    ['another project', { projectId: 'p2' }, 'is for project p2, not p1'],
    ['another action', { action: 'registry.alias.delete' }, 'approves registry.alias.delete; this change needs registry.alias.set'],
    ['another alias', { resource: 'projects/p1/models/churn/aliases/canary' }, 'is for projects/p1/models/churn/aliases/canary; this change needs one for projects/p1/models/churn/aliases/champion'],
    ['another model', { resource: 'projects/p1/models/churn2/aliases/champion' }, 'needs one for projects/p1/models/churn/aliases/champion'],
    ['the same alias in the old form', { resource: 'models/churn@champion' }, 'needs one for projects/p1/models/churn/aliases/champion'],
    ['another version', { details: { version: '2' } }, 'approves version 2; this sets champion to version 3'],
    ['no version', { details: {} }, 'approves no version'],
    ['a rejection', { state: ApprovalState.REJECTED }, 'was rejected'],
  ])('refuses an approval for %s with PERMISSION_DENIED saying what differs', (_, fields, message) => {
    const problem = approvalProblem(approved(fields), setChampion);
    expect(problem).toBeInstanceOf(PermissionDeniedError);
    expect(problem?.message).toContain(message);
  });

  it('answers FAILED_PRECONDITION for a matching approval still pending', () => {
    const problem = approvalProblem(approved({ state: ApprovalState.PENDING }), setChampion);
    expect(problem).toBeInstanceOf(FailedPreconditionError);
    expect(problem?.message).toContain('still pending');
  });

  it('says which approval to request when there is none', () => {
    expect(approvalMissing(setChampion).message).toBe(
      'alias champion of model churn is protected: request an approval of registry.alias.set for projects/p1/models/churn/aliases/champion with detail version=3 and pass its approval_id',
    );
    expect(approvalMissing({ ...setChampion, version: undefined }).message).toContain('registry.alias.delete for projects/p1/models/churn/aliases/champion and pass');
  });
});
