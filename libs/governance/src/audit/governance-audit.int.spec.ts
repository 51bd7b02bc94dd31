import { status } from '@grpc/grpc-js';
import { createGrpcClient } from '@trellis/platform';
import { AuditServiceDesc, IdentityServiceDesc, Outcome } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { decodeJwt } from 'jose';
import { GovernanceHarness } from '../../test/governance-harness';
import { governanceService } from '../governance.definition';

describe('the audit log of a running governance service', () => {
  let gov: GovernanceHarness;
  let adminToken: string;
  let audit: ReturnType<typeof createGrpcClient<(typeof AuditServiceDesc)['method']>>;

  beforeAll(async () => {
    gov = await GovernanceHarness.start(governanceService);
    adminToken = await gov.exchange(gov.adminKey);
    audit = createGrpcClient(AuditServiceDesc, gov.service.grpcAddress, { token: adminToken });
  });

  afterAll(async () => {
    audit?.close();
    await gov?.dispose();
  });

  it('records governance’s own changes and denied calls, in a chain that verifies', async () => {
    const method = `${IdentityServiceDesc.typeName}/CreateProject`;
    await gov.identity(adminToken).createProject({ name: 'audited' });
    const anonymous = createGrpcClient(IdentityServiceDesc, gov.service.grpcAddress);
    await expect(anonymous.createProject({ name: 'sneaky' })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    anonymous.close();

    const records = await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      const calls = records.filter((record) => record.event?.method === method);
      expect(calls.map((record) => record.event?.outcome)).toEqual([Outcome.SUCCEEDED, Outcome.DENIED]);
      return calls;
    });
    expect(records[0].event).toMatchObject({ service: 'governance', actor: decodeJwt(adminToken).sub });
    expect(records[1].event).toMatchObject({ service: 'governance', actor: '', reason: expect.stringContaining('missing credentials') });
    expect(await audit.verifyAuditChain({})).toMatchObject({ intact: true, firstBadSequence: 0n, problem: '' });
  });
});
