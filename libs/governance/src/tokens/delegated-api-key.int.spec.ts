import { status } from '@grpc/grpc-js';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PrincipalKind, Role } from '@trellis/proto';
import { GovernanceHarness } from '../../test/governance-harness';
import { governanceService } from '../governance.definition';
import { issueServiceKeyAsOperator } from './service-key.command';
import { DELEGATED_KEY_MAX_MS } from './token.service';

describe('API keys a platform service makes for the user it acts for (a compute job credential)', () => {
  let gov: GovernanceHarness;
  let adminToken: string;

  beforeAll(async () => {
    gov = await GovernanceHarness.start(governanceService);
    adminToken = await gov.exchange(gov.adminKey);
  });

  afterAll(async () => {
    await gov?.dispose();
  });

  /** A user who is an editor of one project and of no other, a project they are not in, and the compute service's token. */
  async function setUp(name: string) {
    const admin = gov.identity(adminToken);
    const theirs = (await admin.createProject({ name: `${name}-theirs` })).project!.id;
    const other = (await admin.createProject({ name: `${name}-other` })).project!.id;
    const userId = (await admin.createPrincipal({ kind: PrincipalKind.USER, name, displayName: name })).principal!.id;
    await admin.setRoleBinding({ binding: { projectId: theirs, principalId: userId, role: Role.EDITOR } });
    const compute = gov.tokens(await gov.exchange((await issueServiceKeyAsOperator(gov.runtime.config, 'compute')).secret));
    return { theirs, other, userId, compute };
  }

  it('makes a key of the user limited to their project that exchanges for a token with their role there only, and revokes it', async () => {
    const { theirs, userId, compute } = await setUp('dana');
    const expireTime = timestampFromMs(Date.now() + 3_600_000);

    const { apiKey, secret } = await compute.createApiKey({ principalId: userId, name: 'job 1', projectIds: [theirs], expireTime }, { onBehalfOf: userId });
    expect(apiKey).toMatchObject({ principalId: userId, projectIds: [theirs] });
    const claims = JSON.parse(Buffer.from((await gov.exchange(secret)).split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: userId, scoped: true, org_admin: false, bindings: [{ project: theirs, role: 'editor' }] });
    expect(claims.service).toBeUndefined();

    await compute.revokeApiKey({ apiKeyId: apiKey!.id }, { onBehalfOf: userId });
    await expect(gov.exchange(secret)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('refuses a project the user holds no role in, a key without projects or expiry, and a key for someone else than the user it acts for', async () => {
    const { theirs, other, userId, compute } = await setUp('erin');
    const soon = timestampFromMs(Date.now() + 3_600_000);
    const asUser = { onBehalfOf: userId };

    await expect(compute.createApiKey({ principalId: userId, name: 'job', projectIds: [other], expireTime: soon }, asUser)).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `project_ids: project ${other} not found among ${userId}'s projects`,
    });
    await expect(compute.createApiKey({ principalId: userId, name: 'job', projectIds: [], expireTime: soon }, asUser)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(compute.createApiKey({ principalId: userId, name: 'job', projectIds: [theirs] }, asUser)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const tooLate = timestampFromMs(Date.now() + DELEGATED_KEY_MAX_MS + 60_000);
    await expect(compute.createApiKey({ principalId: userId, name: 'job', projectIds: [theirs], expireTime: tooLate }, asUser)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    // Acting for one user gives no power over another's keys, nor over the user's without saying so.
    const { userId: someoneElse } = await setUp('frank');
    await expect(compute.createApiKey({ principalId: someoneElse, name: 'job', projectIds: [theirs], expireTime: soon }, asUser)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(compute.createApiKey({ principalId: userId, name: 'job', projectIds: [theirs], expireTime: soon })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect((await gov.tokens(adminToken).listApiKeys({ principalId: userId })).apiKeys).toEqual([]);
  });

  it("ignores an org's own service account that names a user it acts for", async () => {
    const { theirs, userId } = await setUp('gale');
    const admin = gov.identity(adminToken);
    const botId = (await admin.createPrincipal({ kind: PrincipalKind.SERVICE_ACCOUNT, name: 'gale-bot', displayName: 'bot' })).principal!.id;
    const bot = gov.tokens(await gov.exchange((await gov.tokens(adminToken).createApiKey({ principalId: botId, name: 'bot' })).secret));
    await expect(
      bot.createApiKey({ principalId: userId, name: 'job', projectIds: [theirs], expireTime: timestampFromMs(Date.now() + 3_600_000) }, { onBehalfOf: userId }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
