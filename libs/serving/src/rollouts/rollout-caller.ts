import { abilityFor, Caller, ServiceIdentity, type Principal } from '@trellis/platform';

/** The principal rollouts act as: serving's own account, an editor of the endpoint's project only. */
const ROLLOUT_ACTOR = 'serving-rollout';

/**
 * The caller a rollout changes an endpoint as: the serving service itself (its own token, for the
 * registry), allowed to edit that one project, and acting on behalf of `onBehalfOf`, the user who
 * moved the alias, whom the audit records name. The user's right to move the alias was checked by
 * the registry; the endpoint's editors asked for the rollout when they set its policy.
 */
export async function rolloutCaller(identity: ServiceIdentity, projectId: string, onBehalfOf: string, requestId: string, method: string): Promise<Caller> {
  const principal: Principal = {
    id: ROLLOUT_ACTOR,
    kind: 'service_account',
    platformService: 'serving',
    orgId: '',
    orgAdmin: false,
    bindings: [{ projectId, role: 'editor' }],
    expiresAt: Number.MAX_SAFE_INTEGER,
    scoped: false,
  };
  return new Caller(principal, abilityFor(principal), requestId, await identity.token(projectId), '', { method, action: 'update' }, onBehalfOf);
}
