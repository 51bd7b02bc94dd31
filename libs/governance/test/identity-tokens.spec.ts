import { status } from '@grpc/grpc-js';
import { Module } from '@nestjs/common';
import { defineService } from '@trellis/platform';
import { toJsonString } from '@bufbuild/protobuf';
import { IdentityServiceDesc, ListApiKeysResponseSchema, PrincipalKind, Role, TokenServiceDesc } from '@trellis/proto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { governanceService } from '../src/governance.definition';
import { IdentityModule } from '../src/identity/identity.module';
import { parseApiKey } from '../src/tokens/api-key-secret';
import { TokensModule } from '../src/tokens/tokens.module';
import { GovernanceHarness } from './governance-harness';

@Module({ imports: [IdentityModule, TokensModule] })
class IdentityAndTokensModule {}

const identityAndTokens = defineService({
  name: 'governance',
  config: governanceService.config,
  defaultPort: 0,
  module: IdentityAndTokensModule,
  grpcServices: [IdentityServiceDesc, TokenServiceDesc],
  plugins: governanceService.plugins,
  entities: governanceService.entities,
  migrations: governanceService.migrations,
});

describe('governance identity, API keys and tokens', () => {
  let gov: GovernanceHarness;
  let adminToken: string;
  const secrets: string[] = [];

  beforeAll(async () => {
    // One exchange per key per second (a burst of 4): the burst of 30 below must outrun the refill even on a busy machine.
    gov = await GovernanceHarness.start(identityAndTokens, { TRELLIS_AUTH_TOKEN_TTL_SECONDS: '60', TRELLIS_GOVERNANCE_EXCHANGES_PER_KEY_PER_SECOND: '1' });
    secrets.push(gov.adminKey);
    adminToken = await gov.exchange(gov.adminKey);
    secrets.push(adminToken);
  });

  afterAll(async () => {
    await gov?.dispose();
  });

  it('creates the default org, project and an admin at first start and prints the key once', async () => {
    expect(gov.printed.join('')).toContain('Its API key is shown this once');
    const projects = await gov.identity(adminToken).listProjects({});
    expect(projects.projects.map((p) => p.name)).toEqual(['default']);
    await gov.stop();
    gov.printed.length = 0;
    await gov.boot();
    expect(gov.printed).toEqual([]);
    adminToken = await gov.exchange(secrets[0]);
  });

  it('issues EdDSA tokens carrying the principal, org and bindings, for the configured lifetime', () => {
    expect(decodeProtectedHeader(adminToken)).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
    const claims = decodeJwt(adminToken);
    expect(claims).toMatchObject({ kind: 'user', org_admin: true, iss: 'trellis-governance', aud: 'trellis' });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.bindings).toEqual([{ project: expect.any(String), role: 'owner' }]);
  });

  it('publishes its signing keys at /.well-known/jwks.json', async () => {
    const response = await fetch(`${gov.opsAddress}/.well-known/jwks.json`);
    const jwks = (await response.json()) as { keys: Array<{ kid: string; crv: string; d?: string }> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: decodeProtectedHeader(adminToken).kid });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  describe('with a second user', () => {
    let projectId: string;
    let bobId: string;
    let bobKey: string;

    beforeAll(async () => {
      const admin = gov.identity(adminToken);
      projectId = (await admin.createProject({ name: 'fraud', description: 'fraud models' })).project!.id;
      bobId = (await admin.createPrincipal({ kind: PrincipalKind.USER, name: 'bob', displayName: 'Bob' })).principal!.id;
      await admin.setRoleBinding({ binding: { projectId, principalId: bobId, role: Role.VIEWER } });
      const created = await gov.tokens(adminToken).createApiKey({ principalId: bobId, name: 'laptop' });
      bobKey = created.secret;
      secrets.push(bobKey);
      expect(created.apiKey?.id).toBe(parseApiKey(bobKey)?.id);
    });

    it('lets a viewer read the project but not change it, and hides other projects', async () => {
      const bob = gov.identity(await gov.exchange(bobKey));
      expect((await bob.getProject({ projectId })).project?.name).toBe('fraud');
      await expect(bob.updateProject({ project: { id: projectId, description: 'mine now' }, updateMask: { paths: ['description'] } })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      expect((await bob.listProjects({})).projects.map((p) => p.name)).toEqual(['fraud']);
      await expect(bob.createProject({ name: 'bobs' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    });

    it('gives a changed binding effect with the next token, and never lets a role grant more than it holds', async () => {
      const admin = gov.identity(adminToken);
      await admin.setRoleBinding({ binding: { projectId, principalId: bobId, role: Role.ADMIN } });
      const bob = gov.identity(await gov.exchange(bobKey));
      await bob.updateProject({ project: { id: projectId, description: 'now an admin' }, updateMask: { paths: ['description'] } });
      await expect(bob.setRoleBinding({ binding: { projectId, principalId: bobId, role: Role.OWNER } })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: `${bobId} may not grant owner, a role above their own (admin)`,
        reason: 'ROLE_ABOVE_CALLER',
        domain: 'governance.trellis',
        resource: `projects/${projectId}`,
      });
      const adminId = decodeJwt(adminToken).sub!;
      await expect(bob.setRoleBinding({ binding: { projectId, principalId: adminId, role: Role.VIEWER } })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: `${bobId} may not change the role of owner, a role above their own (admin)`,
      });
      await expect(bob.deleteRoleBinding({ projectId, principalId: adminId })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: `${bobId} may not remove owner, a role above their own (admin)`,
      });
    });

    it('pages projects by name, and the last page says so', async () => {
      const admin = gov.identity(adminToken);
      const first = await admin.listProjects({ pageSize: 1 });
      const second = await admin.listProjects({ pageSize: 1, pageToken: first.nextPageToken });
      expect([first.projects[0].name, second.projects[0].name]).toEqual(['default', 'fraud']);
      expect(second.nextPageToken).toBe('');
      await expect(admin.listPrincipals({ pageToken: first.nextPageToken })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^page_token: /) });
      await expect(admin.listProjects({ pageSize: 5000 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'page_size: must be between 0 and 1000' });
    });

    it('changes only the project fields named in update_mask, so a security setting never flips as a side effect', async () => {
      const admin = gov.identity(adminToken);
      const { project } = await admin.createProject({ name: 'vault', description: 'keep me', encryptAtRest: true });
      const described = (await admin.updateProject({ project: { id: project!.id, description: 'still encrypted' }, updateMask: { paths: ['description'] } })).project!;
      expect(described).toMatchObject({ description: 'still encrypted', encryptAtRest: true });
      const plain = (await admin.updateProject({ project: { id: project!.id, encryptAtRest: false }, updateMask: { paths: ['encrypt_at_rest'] } })).project!;
      expect(plain).toMatchObject({ description: 'still encrypted', encryptAtRest: false });
      expect((await admin.getProject({ projectId: project!.id })).project).toMatchObject({ description: 'still encrypted', encryptAtRest: false });
      await expect(admin.updateProject({ project: { id: project!.id, description: 'no mask' } })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'update_mask: name the fields to change: description, encrypt_at_rest',
      });
      await expect(admin.updateProject({ project: { id: project!.id, name: 'renamed' }, updateMask: { paths: ['name'] } })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'update_mask: "name" cannot be changed; the fields are description, encrypt_at_rest',
      });
      await expect(admin.updateProject({ updateMask: { paths: ['description'] } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^project: is required/) });
      expect((await admin.getProject({ projectId: project!.id })).project).toMatchObject({ name: 'vault', description: 'still encrypted' });
    });

    it('pages a project\'s members by principal id, and a token continues only the listing it came from', async () => {
      const admin = gov.identity(adminToken);
      const all = (await admin.listRoleBindings({ projectId })).bindings.map((binding) => binding.principalId);
      expect(all).toEqual([...all].sort());
      expect(all).toHaveLength(2);
      const first = await admin.listRoleBindings({ projectId, pageSize: 1 });
      const second = await admin.listRoleBindings({ projectId, pageSize: 1, pageToken: first.nextPageToken });
      expect([...first.bindings, ...second.bindings].map((binding) => binding.principalId)).toEqual(all);
      expect(second.nextPageToken).toBe('');
      const other = (await admin.listProjects({})).projects.find((candidate) => candidate.id !== projectId)!;
      await expect(admin.listRoleBindings({ projectId: other.id, pageToken: first.nextPageToken })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^page_token: /) });
    });

    it('refuses to remove the last owner of a project', async () => {
      const admin = gov.identity(adminToken);
      const adminId = decodeJwt(adminToken).sub!;
      await expect(admin.deleteRoleBinding({ projectId, principalId: adminId })).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        reason: 'LAST_OWNER',
        resource: `projects/${projectId}`,
      });
      await expect(admin.setRoleBinding({ binding: { projectId, principalId: adminId, role: Role.EDITOR } })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'LAST_OWNER' });
    });

    it('names the reason and the resource of each missing or taken project, principal, member and key', async () => {
      const admin = gov.identity(adminToken);
      const tokens = gov.tokens(adminToken);
      await expect(admin.createProject({ name: 'fraud' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS, details: 'project fraud already exists', reason: 'PROJECT_NAME_TAKEN' });
      await expect(admin.createPrincipal({ kind: PrincipalKind.USER, name: 'bob', displayName: 'Bob' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS, reason: 'PRINCIPAL_NAME_TAKEN' });
      await expect(admin.getProject({ projectId: 'no-such-project' })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        details: 'project no-such-project not found',
        reason: 'PROJECT_NOT_FOUND',
        domain: 'governance.trellis',
        resource: 'projects/no-such-project',
      });
      await expect(admin.setRoleBinding({ binding: { projectId, principalId: 'ghost', role: Role.VIEWER } })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        reason: 'PRINCIPAL_NOT_FOUND',
        resource: 'principals/ghost',
      });
      await expect(admin.deleteRoleBinding({ projectId, principalId: 'ghost' })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        reason: 'ROLE_BINDING_NOT_FOUND',
        resource: `projects/${projectId}/members/ghost`,
      });
      await expect(tokens.listApiKeys({ principalId: 'ghost' })).rejects.toMatchObject({ code: status.NOT_FOUND, reason: 'PRINCIPAL_NOT_FOUND' });
      await expect(tokens.createApiKey({ name: 'scoped', projectIds: ['hidden'] })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        details: 'project_ids: project hidden not found',
        reason: 'PROJECT_NOT_FOUND',
        resource: 'projects/hidden',
      });
      await expect(tokens.revokeApiKey({ apiKeyId: '0123456789abcdef' })).rejects.toMatchObject({
        code: status.NOT_FOUND,
        reason: 'API_KEY_NOT_FOUND',
        resource: 'apiKeys/0123456789abcdef',
      });
    });

    it('shows keys without secrets, and a revoked key cannot be exchanged again at once', async () => {
      const listed = await gov.tokens(adminToken).listApiKeys({ principalId: bobId });
      expect(toJsonString(ListApiKeysResponseSchema, listed)).not.toContain(parseApiKey(bobKey)!.random);
      const [key] = listed.apiKeys;
      expect(key.lastUsedTime).toBeDefined();
      await gov.tokens(adminToken).revokeApiKey({ apiKeyId: key.id });
      await expect(gov.exchange(bobKey)).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
        details: 'API key rejected: unknown, revoked or expired',
      });
    });

    it('lets users manage only their own keys', async () => {
      const own = await gov.tokens(adminToken).createApiKey({ principalId: bobId, name: 'second' });
      secrets.push(own.secret);
      const bobTokens = gov.tokens(await gov.exchange(own.secret));
      const adminId = decodeJwt(adminToken).sub!;
      await expect(bobTokens.listApiKeys({ principalId: adminId })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      expect((await bobTokens.listApiKeys({})).apiKeys.map((k) => k.name)).toEqual(['laptop', 'second']);
    });

    it('pages a principal\'s keys oldest first, and a token continues only the listing it came from', async () => {
      const tokens = gov.tokens(adminToken);
      const first = await tokens.listApiKeys({ principalId: bobId, pageSize: 1 });
      const second = await tokens.listApiKeys({ principalId: bobId, pageSize: 1, pageToken: first.nextPageToken });
      expect([first.apiKeys[0].name, second.apiKeys[0].name]).toEqual(['laptop', 'second']);
      expect(second.nextPageToken).toBe('');
      await expect(tokens.listApiKeys({ pageSize: 1, pageToken: first.nextPageToken })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^page_token: /) });
    });

    it('limits a project-scoped key to its projects and drops org-wide powers', async () => {
      const scoped = await gov.tokens(adminToken).createApiKey({ name: 'ci', projectIds: [projectId] });
      secrets.push(scoped.secret);
      const scopedToken = await gov.exchange(scoped.secret);
      const claims = decodeJwt(scopedToken);
      expect(claims.org_admin).toBe(false);
      expect(claims.bindings).toEqual([{ project: projectId, role: 'owner' }]);
      await expect(gov.tokens(scopedToken).createApiKey({ name: 'escape' })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'a token from a project-scoped API key cannot manage API keys; use an unscoped key',
        reason: 'API_KEY_SCOPED',
      });
    });

    it('does not let someone who knows a key id lock its holder out', async () => {
      const { secret, apiKey } = await gov.tokens(adminToken).createApiKey({ name: 'target' });
      secrets.push(secret);
      const forged = `trellis_${apiKey!.id}_${'A'.repeat(43)}`;
      for (let i = 0; i < 25; i++) await gov.exchange(forged).catch(() => undefined);
      expect(await gov.exchange(secret)).toMatch(/^ey/);
    });
  });

  it('rate limits exchanges of one key', async () => {
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => gov.exchange(secrets[0])));
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { code: number }).code === status.RESOURCE_EXHAUSTED);
    expect(limited.length).toBeGreaterThan(0);
    expect((limited[0] as PromiseRejectedResult).reason).toMatchObject({ reason: 'EXCHANGE_RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
  });

  it('rejects malformed keys with a message that says what a key looks like', async () => {
    await expect(gov.exchange('not-a-key')).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: 'API key rejected: not a Trellis API key (trellis_...)',
      reason: 'API_KEY_REJECTED',
    });
  });

  it('rotates the signing key: old tokens stay valid, new ones are signed by the new key', async () => {
    const { secret } = await gov.tokens(adminToken).createApiKey({ name: 'rotation' });
    secrets.push(secret);
    const oldToken = await gov.exchange(secret);
    const { keyId } = await gov.tokens(adminToken).rotateSigningKey({});
    const newToken = await gov.exchange(secret);
    expect(decodeProtectedHeader(newToken).kid).toBe(keyId);
    expect(decodeProtectedHeader(oldToken).kid).not.toBe(keyId);
    for (const token of [oldToken, newToken]) expect((await gov.identity(token).listProjects({})).projects.length).toBeGreaterThan(0);
    const jwks = (await (await fetch(`${gov.opsAddress}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(2);
  });

  it('never writes a key or a token to the logs', () => {
    const logs = gov.logs.join('');
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});

describe('governance key exchange limits per client address', () => {
  let gov: GovernanceHarness;

  beforeAll(async () => {
    gov = await GovernanceHarness.start(identityAndTokens, { TRELLIS_GOVERNANCE_EXCHANGES_PER_ADDRESS_PER_SECOND: '1' });
  });

  afterAll(async () => {
    await gov?.dispose();
  });

  it('limits rejected exchanges from one address, and never lets them stop a good key from it', async () => {
    const guesses = Array.from({ length: 20 }, (_, i) => `trellis_${i.toString(16).padStart(16, '0')}_${'x'.repeat(43)}`);
    // Asserted on this one burst: a later call could find the bucket refilled on a busy machine.
    const failures = await Promise.all(guesses.map((guess) => gov.exchange(guess).then(() => undefined, (error: { code: number; details: string }) => error)));
    expect(failures).toContainEqual(expect.objectContaining({ code: status.UNAUTHENTICATED }));
    expect(failures).toContainEqual(
      expect.objectContaining({ code: status.RESOURCE_EXHAUSTED, details: 'too many rejected key exchanges from this address; wait a few seconds' }),
    );
    // The gateway exchanges every user's key from one address: a stranger's bad keys must not lock them out.
    await expect(gov.exchange(gov.adminKey)).resolves.toMatch(/^eyJ/);
  });
});
