import { InvalidArgumentError } from '@trellis/platform';
import { checkApprovalId, checkComment, checkNewApproval, type NewApproval } from './approval.validation';

const valid: NewApproval = {
  projectId: 'p1',
  action: 'registry.alias.set',
  resource: 'projects/p1/models/churn/aliases/champion',
  details: { version: '7' },
};

function refusal(work: () => void): InvalidArgumentError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('approval input checks', () => {
  it('accepts a well-formed request, at every limit', () => {
    expect(() => checkNewApproval(valid)).not.toThrow();
    const details = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`.padEnd(128, 'x'), 'v'.repeat(2048)]));
    expect(() =>
      checkNewApproval({ projectId: 'p'.repeat(64), action: 'a.b', resource: 'r'.repeat(512), details }),
    ).not.toThrow();
    expect(() => checkNewApproval({ ...valid, action: 'compute.job-queue.drain_all2', resource: 'é'.repeat(512) })).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['one token', 'promote'],
    ['uppercase', 'Registry.alias.set'],
    ['a space', 'registry.alias set'],
    ['an empty token', 'registry..set'],
    ['a trailing dot', 'registry.alias.'],
    ['a token starting with a digit', 'registry.1alias'],
    ['more than 128 characters', `a.${'b'.repeat(127)}`],
  ])('refuses an action with %s, naming the field', (_, action) => {
    expect(refusal(() => checkNewApproval({ ...valid, action })).message).toMatch(/^action: must be lowercase dotted tokens/);
  });

  it('refuses an empty or too long resource', () => {
    expect(refusal(() => checkNewApproval({ ...valid, resource: '' })).message).toBe('resource: is required');
    expect(refusal(() => checkNewApproval({ ...valid, resource: 'r'.repeat(513) })).message).toBe(
      'resource: must be at most 512 characters',
    );
  });

  it('refuses an empty or too long project_id', () => {
    expect(refusal(() => checkNewApproval({ ...valid, projectId: '' })).message).toBe('project_id: is required');
    expect(refusal(() => checkNewApproval({ ...valid, projectId: 'p'.repeat(65) })).field).toBe('project_id');
  });

  it('refuses details with too many entries, empty or long keys, or long values', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal(() => checkNewApproval({ ...valid, details: many })).message).toBe('details: must have at most 50 entries');
    expect(refusal(() => checkNewApproval({ ...valid, details: { '': 'v' } })).message).toBe('details: keys must be 1 to 128 characters');
    expect(refusal(() => checkNewApproval({ ...valid, details: { ['k'.repeat(129)]: 'v' } })).field).toBe('details');
    expect(refusal(() => checkNewApproval({ ...valid, details: { why: 'v'.repeat(2049) } })).message).toBe(
      'details: value of "why" must be at most 2048 characters',
    );
  });

  it('refuses a comment over 2048 characters and an empty approval_id', () => {
    expect(() => checkComment('c'.repeat(2048))).not.toThrow();
    expect(refusal(() => checkComment('c'.repeat(2049))).message).toBe('comment: must be at most 2048 characters');
    expect(refusal(() => checkApprovalId('')).message).toBe('approval_id: is required');
  });
});
