import { status } from '@grpc/grpc-js';
import { abilityFor } from './ability';
import { Caller } from './caller';
import type { Principal } from './principal';

const principal = (id: string, orgAdmin: boolean): Principal => ({
  id,
  kind: 'user',
  orgId: 'org-1',
  orgAdmin,
  bindings: orgAdmin ? [] : [{ projectId: 'p1', role: 'owner' }],
  expiresAt: Date.now() + 300_000,
  scoped: false,
});
const callerAs = (who: Principal | undefined) => new Caller(who, abilityFor(who ?? principal('nobody', false)), 'req-1', undefined, '127.0.0.1:1');

/** What `act` threw, as a client would see it: its code, reason, resource and message. */
function refusal(act: () => void): { code: number; reason: string; resource?: string; message: string } | undefined {
  try {
    act();
    return undefined;
  } catch (error) {
    const { code, reason, resource, message } = error as { code: number; reason: string; resource?: string; message: string };
    return { code, reason, resource, message };
  }
}

describe('Caller.assertOrgAdmin', () => {
  const queue = { kind: 'Queue', name: 'queues/main' };

  it('lets an org admin through, naming the resource as the audit target', () => {
    const admin = callerAs(principal('ada', true));
    expect(refusal(() => admin.assertOrgAdmin('change queues or grants', queue))).toBeUndefined();
    expect(admin.target).toEqual({ kind: 'Queue', projectId: '', name: 'queues/main' });
  });

  it("refuses a project owner with ORG_ADMIN_REQUIRED, in one shape of message naming what they may not do and the resource, which stays the refusal's audit target", () => {
    const owner = callerAs(principal('olga', false));
    expect(refusal(() => owner.assertOrgAdmin('change queues or grants', queue))).toEqual({
      code: status.PERMISSION_DENIED,
      reason: 'ORG_ADMIN_REQUIRED',
      resource: 'queues/main',
      message: 'olga may not change queues or grants: only org admins may',
    });
    expect(owner.target).toEqual({ kind: 'Queue', projectId: '', name: 'queues/main' });
  });

  it('names no resource and sets no target when given none', () => {
    const owner = callerAs(principal('olga', false));
    expect(refusal(() => owner.assertOrgAdmin('rotate signing keys'))).toEqual({
      code: status.PERMISSION_DENIED,
      reason: 'ORG_ADMIN_REQUIRED',
      resource: undefined,
      message: 'olga may not rotate signing keys: only org admins may',
    });
    expect(owner.target).toBeUndefined();
  });

  it('answers a call without credentials UNAUTHENTICATED, not PERMISSION_DENIED', () => {
    expect(refusal(() => callerAs(undefined).assertOrgAdmin('collect garbage'))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CREDENTIALS_MISSING' });
  });
});
