import { status, type ServiceError } from '@grpc/grpc-js';
import { PrincipalKind, Role } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import { GovernanceHarness } from '../../test/governance-harness';
import { governanceService } from '../governance.definition';

describe('API keys: project scope and exchange limits', () => {
  let gov: GovernanceHarness;
  let adminToken: string;

  beforeAll(async () => {
    // Half an exchange per second per key, a burst of two: a burst of five always meets the limit.
    gov = await GovernanceHarness.start(governanceService, { TRELLIS_GOVERNANCE_EXCHANGES_PER_KEY_PER_SECOND: '0.5' });
    adminToken = await gov.exchange(gov.adminKey);
  });

  afterAll(async () => {
    await gov?.dispose();
  });

  it("refuses a project the caller cannot see exactly as one that does not exist, and creates no key", async () => {
    const admin = gov.identity(adminToken);
    const shared = (await admin.createProject({ name: 'shared' })).project!.id;
    const hidden = (await admin.createProject({ name: 'hidden' })).project!.id;
    const carolId = (await admin.createPrincipal({ kind: PrincipalKind.USER, name: 'carol', displayName: 'Carol' })).principal!.id;
    await admin.setRoleBinding({ binding: { projectId: shared, principalId: carolId, role: Role.EDITOR } });
    const carol = gov.tokens(await gov.exchange((await gov.tokens(adminToken).createApiKey({ principalId: carolId, name: 'laptop' })).secret));

    const missing = randomUUID();
    const refusal = (projectIds: string[]) => carol.createApiKey({ name: 'ci', projectIds }).then(() => undefined, (error: ServiceError) => error);
    const [ofHidden, ofMissing] = [await refusal([shared, hidden]), await refusal([missing])];
    expect(ofHidden).toMatchObject({ code: status.NOT_FOUND, details: `project_ids: project ${hidden} not found` });
    expect(ofMissing).toMatchObject({ code: status.NOT_FOUND, details: `project_ids: project ${missing} not found` });
    expect(ofHidden!.details.replace(hidden, '<id>')).toBe(ofMissing!.details.replace(missing, '<id>'));
    expect((await carol.listApiKeys({})).apiKeys.map((key) => key.name)).toEqual(['laptop']);

    expect((await carol.createApiKey({ name: 'ci', projectIds: [shared] })).apiKey?.projectIds).toEqual([shared]);
    // An org admin sees every project of the org, but none that does not exist.
    await expect(gov.tokens(adminToken).createApiKey({ name: 'ci', projectIds: [hidden, 'x'.repeat(64)] })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `project_ids: project ${'x'.repeat(64)} not found`,
    });
  });

  it('tells a caller over the exchange limit when to retry, in retry-after trailing metadata', async () => {
    const { secret } = await gov.tokens(adminToken).createApiKey({ name: 'busy' });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => gov.exchange(secret)));
    const limited = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as ServiceError] : []));
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited) {
      expect(error).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: 'too many exchanges of this API key; reuse the token until it expires' });
      // One token every two seconds: never more than two seconds away.
      expect(error.metadata.get('retry-after')).toEqual([expect.stringMatching(/^[12]$/)]);
    }
  });
});
