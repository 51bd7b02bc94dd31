import { abilityFor, Caller, InvalidArgumentError, type Principal } from '@trellis/platform';
import { policyOf, type PolicyInput } from './rollout-policy';

const erin: Principal = { id: 'erin', kind: 'user', orgId: 'o1', orgAdmin: false, scoped: false, bindings: [{ projectId: 'p1', role: 'editor' }], expiresAt: Number.MAX_SAFE_INTEGER };
const testCaller = () => new Caller(erin, abilityFor(erin), 'req-1', undefined, '127.0.0.1:5000');

const endpoint = { id: 'e-1', name: 'churn', projectId: 'p1' };
const input: PolicyInput = { follow: 'models:/churn@champion', canaryPercent: 10, bakeTimeMs: 60_000, maxErrorPercent: 2, maxP99LatencyMs: 250, minRequests: 100, driftMonitor: '' };

/** The field and message of the INVALID_ARGUMENT `policyOf` answers for `changes`, or undefined when it accepts them. */
function refusal(changes: Partial<PolicyInput>): { field: string | undefined; message: string } | undefined {
  try {
    policyOf(testCaller(), endpoint, { ...input, ...changes }, 'policy');
    return undefined;
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    return { field: error.field, message: error.message };
  }
}

describe("a rollout policy's drift monitor", () => {
  it('is stored as given, or empty for none', () => {
    expect(policyOf(testCaller(), endpoint, { ...input, driftMonitor: 'churn-drift' }, 'policy').driftMonitor).toBe('churn-drift');
    expect(policyOf(testCaller(), endpoint, input, 'policy').driftMonitor).toBe('');
    expect(refusal({ driftMonitor: 'm'.repeat(128) })).toBeUndefined();
  });

  it('refuses a name over 128 characters, naming the field under the one the policy came in', () => {
    expect(refusal({ driftMonitor: 'm'.repeat(129) })).toEqual({ field: 'policy.drift_monitor', message: expect.stringContaining('129 characters; the limit is 128') });
    expect(() => policyOf(testCaller(), endpoint, { ...input, driftMonitor: 'm'.repeat(129) }, 'rollout_policy')).toThrow(expect.objectContaining({ field: 'rollout_policy.drift_monitor' }));
  });

  it('refuses a name with a control character, naming it and its position', () => {
    expect(refusal({ driftMonitor: 'churn\ndrift' })).toEqual({ field: 'policy.drift_monitor', message: expect.stringContaining('U+000A at position 5') });
  });
});
