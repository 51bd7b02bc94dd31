import { status } from '@grpc/grpc-js';
import { createGrpcClient } from '@trellis/platform';
import { IdentityServiceDesc, PrincipalKind, Role } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { GovernanceHarness } from '../../test/governance-harness';
import { governanceService } from '../governance.definition';

/** The requirement: a revocation takes effect everywhere within 2 seconds. */
const WITHIN = { timeoutMs: 2000 };

describe('revoking access in a running governance (standalone)', () => {
  let gov: GovernanceHarness;
  let adminToken: string;

  beforeAll(async () => {
    gov = await GovernanceHarness.start(governanceService);
    adminToken = await gov.exchange(gov.adminKey);
  });

  afterAll(async () => {
    await gov?.dispose();
  });

  /** What governance answers `token` for ListProjects: 'ok', or the refusal's details. */
  const listProjectsAs = async (token: string) => {
    const client = createGrpcClient(IdentityServiceDesc, gov.service.grpcAddress, { token });
    try {
      await client.listProjects({});
      return 'ok';
    } catch (error) {
      const { code, details } = error as { code: number; details: string };
      return code === status.UNAUTHENTICATED ? details : `code ${code}`;
    }
  };
  /** A new API key of the admin and a token exchanged for it. */
  const adminKeyAndToken = async (name: string) => {
    const { apiKey, secret } = await gov.tokens(adminToken).createApiKey({ name });
    return { id: apiKey!.id, token: await gov.exchange(secret) };
  };

  it('refuses a token issued for an API key within 2 s of the key being revoked, long before the token expires', async () => {
    const key = await adminKeyAndToken('laptop');
    expect(await listProjectsAs(key.token)).toBe('ok');

    await gov.tokens(adminToken).revokeApiKey({ apiKeyId: key.id });

    await eventually(async () => expect(await listProjectsAs(key.token)).toBe(`token revoked: its API key ${key.id} was revoked`), WITHIN);
    expect(await listProjectsAs(adminToken)).toBe('ok');
  });

  describe('a role lowered or removed', () => {
    let projectId: string;
    let otherProjectId: string;
    let botId: string;
    let botKey: string;

    beforeAll(async () => {
      const admin = gov.identity(adminToken);
      projectId = (await admin.createProject({ name: 'revocations' })).project!.id;
      otherProjectId = (await admin.createProject({ name: 'other' })).project!.id;
      botId = (await admin.createPrincipal({ kind: PrincipalKind.SERVICE_ACCOUNT, name: 'bot' })).principal!.id;
      await admin.setRoleBinding({ binding: { projectId: otherProjectId, principalId: botId, role: Role.VIEWER } });
      botKey = (await gov.tokens(adminToken).createApiKey({ principalId: botId, name: 'ci' })).secret;
    });

    const bind = (role: Role) => gov.identity(adminToken).setRoleBinding({ binding: { projectId, principalId: botId, role } });
    /** What the project answers `token`: 'ok', or the refusal's code and details. */
    const getProjectAs = (token: string, id = projectId) =>
      createGrpcClient(IdentityServiceDesc, gov.service.grpcAddress, { token })
        .getProject({ projectId: id })
        .then(
          () => 'ok',
          (error: { code: number; details: string }) => (error.code === status.UNAUTHENTICATED ? error.details : `code ${error.code}`),
        );
    /** Revokes a key of the admin's and waits until that has reached this process: every revocation published before it has too. */
    const revocationsDelivered = async () => {
      const key = await adminKeyAndToken('marker');
      await gov.tokens(adminToken).revokeApiKey({ apiKeyId: key.id });
      await eventually(async () => expect(await listProjectsAs(key.token)).toMatch(/^token revoked/), WITHIN);
    };

    it('refuses the tokens issued before a binding is removed within 2 s; a new exchange carries the roles left', async () => {
      await bind(Role.EDITOR);
      const before = await gov.exchange(botKey);
      expect(await getProjectAs(before)).toBe('ok');

      await gov.identity(adminToken).deleteRoleBinding({ projectId, principalId: botId });

      await eventually(async () => expect(await getProjectAs(before)).toMatch(/^token revoked: the roles of .+ were reduced after it was issued/), WITHIN);
      const after = await gov.exchange(botKey);
      expect(await getProjectAs(after)).toBe(`code ${status.NOT_FOUND}`);
      expect(await getProjectAs(after, otherProjectId)).toBe('ok');
    });

    it('refuses the tokens issued before a role is lowered, and refuses none when a role is raised', async () => {
      await bind(Role.VIEWER);
      const viewer = await gov.exchange(botKey);
      await bind(Role.EDITOR);
      await revocationsDelivered();
      expect(await getProjectAs(viewer)).toBe('ok');

      const editor = await gov.exchange(botKey);
      await bind(Role.VIEWER);
      await eventually(async () => expect(await getProjectAs(editor)).toMatch(/^token revoked/), WITHIN);
      expect(await getProjectAs(await gov.exchange(botKey))).toBe('ok');
    });
  });

  it('still refuses, after a restart, a token whose key was revoked before it', async () => {
    const key = await adminKeyAndToken('before-restart');
    await gov.tokens(adminToken).revokeApiKey({ apiKeyId: key.id });
    await eventually(async () => expect(await listProjectsAs(key.token)).toMatch(/^token revoked/), WITHIN);

    await gov.stop();
    await gov.boot();

    expect(await listProjectsAs(key.token)).toBe(`token revoked: its API key ${key.id} was revoked`);
    expect(await listProjectsAs(adminToken)).toBe('ok');
  });
});
