import { Metadata } from '@grpc/grpc-js';
import { auditedCall, auditsCall } from '../audit/audit.interceptor';
import { TestKeySet } from '../testing/test-key-set';
import { AuthGuard, type GuardedMethod } from './auth.guard';
import { callContextOf, ON_BEHALF_OF_HEADER } from './call-context';
import { TokenVerifier } from './token-verifier';

const READ_RUNS: GuardedMethod = {
  requirement: { action: 'read', kind: 'Run' },
  call: { method: 'trellis.tracking.v1.ArtifactService/DownloadArtifact', action: 'read' },
};

describe('a call made on behalf of a user', () => {
  let keys: TestKeySet;
  let guard: AuthGuard;

  beforeAll(async () => {
    keys = await TestKeySet.create();
    guard = new AuthGuard(new TokenVerifier({ keys: { kind: 'local', keys: keys.jwks }, issuer: 'trellis-governance', audience: 'trellis' }));
  });

  const admitted = async (kind: 'user' | 'service_account' | 'platform_service', onBehalfOf?: string) => {
    const metadata = new Metadata();
    const claims =
      kind === 'platform_service' ? { sub: 'service-registry', kind: 'service_account' as const, service: 'registry' } : { sub: kind === 'user' ? 'mallory' : 'ci-bot', kind };
    metadata.set('authorization', `Bearer ${await keys.mint({ ...claims, bindings: [{ project: 'p1', role: 'viewer' }] })}`);
    if (onBehalfOf !== undefined) metadata.set(ON_BEHALF_OF_HEADER, onBehalfOf);
    const context = callContextOf(metadata);
    await guard.admit(context, metadata, READ_RUNS);
    return context;
  };

  it("names the user a platform service acts for, and the kit audits the call, a read too, with both", async () => {
    const context = await admitted('platform_service', 'alice-id');
    expect(context.caller!.onBehalfOf).toBe('alice-id');
    expect(auditsCall(false, context)).toBe(true);
    expect(auditedCall(context, READ_RUNS.call.method)).toMatchObject({ actor: 'service-registry', onBehalfOf: 'alice-id', action: 'read' });
  });

  it('ignores the claim from a user, so nobody can put their calls on someone else; their reads stay unaudited', async () => {
    const context = await admitted('user', 'alice-id');
    expect(context.caller!.onBehalfOf).toBeUndefined();
    expect(auditsCall(false, context)).toBe(false);
    expect(auditedCall(context, READ_RUNS.call.method).onBehalfOf).toBeUndefined();
  });

  it("ignores the claim from an org's own service account: only governance makes platform services' accounts", async () => {
    const context = await admitted('service_account', 'alice-id');
    expect(context.caller!.onBehalfOf).toBeUndefined();
    expect(auditedCall(context, READ_RUNS.call.method).onBehalfOf).toBeUndefined();
  });

  it('ignores a value that is no principal id', async () => {
    expect((await admitted('platform_service', 'alice forged=yes')).caller!.onBehalfOf).toBeUndefined();
    expect((await admitted('platform_service', 'a'.repeat(129))).caller!.onBehalfOf).toBeUndefined();
    expect((await admitted('platform_service')).caller!.onBehalfOf).toBeUndefined();
  });
});
