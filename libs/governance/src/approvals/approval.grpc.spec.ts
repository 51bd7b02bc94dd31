import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, defineService, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { ApprovalServiceDesc, ApprovalState, AuditEventSchema, Outcome, type AuditEvent } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { governanceService } from '../governance.definition';
import { ApprovalsModule } from './approvals.module';

type ApprovalClient = GrpcClient<(typeof ApprovalServiceDesc)['method']>;

const approvalTest = defineService({
  name: 'governance',
  config: governanceService.config,
  defaultPort: 0,
  module: ApprovalsModule,
  grpcServices: [ApprovalServiceDesc],
  entities: governanceService.entities,
  migrations: governanceService.migrations,
});

const ask = { projectId: 'p1', action: 'registry.alias.set', resource: 'projects/p1/models/churn/aliases/champion', details: { version: '7' } };

describe('ApprovalService through the service kit', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  const audits: AuditEvent[] = [];
  let alice: ApprovalClient;
  let bob: ApprovalClient;
  let viewer: ApprovalClient;
  let outsider: ApprovalClient;
  let lister: ApprovalClient;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    subscription = await platform.runtime.bus.subscribe({
      durable: 'approvals-spec',
      subject: 'trellis.governance.v1.audit.recorded',
      handler: async (envelope) => void audits.push(fromBinary(AuditEventSchema, envelope.payload)),
    });
    service = await platform.startService(approvalTest);
    const client = (sub: string, bindings: Array<{ project: string; role: 'viewer' | 'editor' | 'admin' | 'owner' }>) =>
      platform.client(ApprovalServiceDesc, service.grpcAddress, { sub, bindings });
    alice = await client('alice', [{ project: 'p1', role: 'editor' }]);
    bob = await client('bob', [{ project: 'p1', role: 'editor' }]);
    viewer = await client('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await client('oscar', [{ project: 'p2', role: 'owner' }]);
    lister = await client('lena', [{ project: 'p-list', role: 'editor' }]);
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
  });

  const codeOf = async (call: Promise<unknown>) => ((await call.catch((e: unknown) => e)) as ServiceError).code;
  const auditsOf = (id: string) => audits.filter((event) => event.resource.endsWith(`/approvals/${id}`) && event.outcome === Outcome.SUCCEEDED);
  const denialsOf = (id: string) => audits.filter((event) => event.resource.endsWith(`/approvals/${id}`) && event.outcome === Outcome.DENIED);
  /** Waits until every event of the calls made so far was delivered: the relay keeps outbox order. */
  const settled = async () => {
    const { approval } = await alice.requestApproval({ ...ask, resource: 'marker' });
    await eventually(() => expect(auditsOf(approval!.id)).toHaveLength(1));
  };

  it('runs four eyes end to end: the requester cannot approve, someone else can, once', async () => {
    const { approval } = await alice.requestApproval(ask, { requestId: 'req-ask' });
    expect(approval).toMatchObject({ ...ask, requesterId: 'alice', state: ApprovalState.PENDING, deciderId: '', comment: '' });
    expect(approval?.createTime).toBeDefined();
    expect(approval?.decideTime).toBeUndefined();
    const id = approval!.id;

    await expect(alice.approve({ approvalId: id })).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'you requested this approval; someone else must approve it',
      reason: 'APPROVAL_BY_REQUESTER',
      domain: 'governance.trellis',
      resource: `projects/p1/approvals/${id}`,
    });
    const approved = await bob.approve({ approvalId: id, comment: 'ship it' }, { requestId: 'req-approve' });
    expect(approved.approval).toMatchObject({ state: ApprovalState.APPROVED, deciderId: 'bob', comment: 'ship it' });
    expect(approved.approval?.decideTime).toBeDefined();
    await expect(bob.approve({ approvalId: id })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: `approval ${id} is already approved; only a pending request can be approved`,
      reason: 'APPROVAL_NOT_PENDING',
      resource: `projects/p1/approvals/${id}`,
    });
    await expect(alice.reject({ approvalId: id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_NOT_PENDING' });

    // What a protected action in another service checks before it proceeds.
    const { approval: checked } = await viewer.getApproval({ approvalId: id });
    expect(checked).toMatchObject({ state: ApprovalState.APPROVED, action: ask.action, resource: ask.resource, details: ask.details });

    await settled();
    expect(auditsOf(id)).toEqual([
      expect.objectContaining({
        service: 'governance',
        actor: 'alice',
        action: 'create',
        method: 'trellis.governance.v1.ApprovalService/RequestApproval',
        projectId: 'p1',
        outcome: Outcome.SUCCEEDED,
        reason: '',
        requestId: 'req-ask',
        clientAddress: expect.stringMatching(/127\.0\.0\.1/),
      }),
      expect.objectContaining({
        actor: 'bob',
        action: 'update',
        method: 'trellis.governance.v1.ApprovalService/Approve',
        projectId: 'p1',
        requestId: 'req-approve',
      }),
    ]);
  });

  it('lets the requester withdraw their own request by rejecting it', async () => {
    const { approval } = await alice.requestApproval(ask);
    const { approval: withdrawn } = await alice.reject({ approvalId: approval!.id, comment: 'asked by mistake' });
    expect(withdrawn).toMatchObject({ state: ApprovalState.REJECTED, deciderId: 'alice', comment: 'asked by mistake' });
    await settled();
    expect(auditsOf(approval!.id).map((e) => [e.actor, e.action, e.method])).toEqual([
      ['alice', 'create', 'trellis.governance.v1.ApprovalService/RequestApproval'],
      ['alice', 'update', 'trellis.governance.v1.ApprovalService/Reject'],
    ]);
  });

  it('refuses a viewer a request or a decision, and audits refusals as denied, not as changes', async () => {
    const { approval } = await alice.requestApproval(ask);
    const id = approval!.id;
    await expect(viewer.requestApproval(ask)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'vic has no role that may create Approval in any project',
    });
    expect(await codeOf(viewer.approve({ approvalId: id }))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(viewer.reject({ approvalId: id }))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(alice.approve({ approvalId: id }))).toBe(status.PERMISSION_DENIED);
    expect((await viewer.getApproval({ approvalId: id })).approval?.state).toBe(ApprovalState.PENDING);
    await settled();
    expect(auditsOf(id).map((e) => e.method)).toEqual(['trellis.governance.v1.ApprovalService/RequestApproval']);
    expect(denialsOf(id).map((e) => e.method)).toEqual(['trellis.governance.v1.ApprovalService/Approve']);
  });

  it('answers NOT_FOUND to someone of another project, and refuses them the listing', async () => {
    const { approval } = await alice.requestApproval(ask);
    const id = approval!.id;
    for (const call of [outsider.getApproval({ approvalId: id }), outsider.approve({ approvalId: id }), outsider.reject({ approvalId: id })]) {
      // No resource: naming the request's project would tell an outsider which project it is in.
      await expect(call).rejects.toMatchObject({ code: status.NOT_FOUND, details: `approval ${id} not found`, reason: 'APPROVAL_NOT_FOUND', resource: undefined });
    }
    await expect(outsider.listApprovals({ projectId: 'p1' })).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'oscar may not read Approval in project p1',
    });
    await expect(outsider.requestApproval(ask)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect((await alice.getApproval({ approvalId: id })).approval?.state).toBe(ApprovalState.PENDING);
  });

  it('pages a project newest first, filters by state, and refuses a bad token', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await lister.requestApproval({ ...ask, projectId: 'p-list', resource: `projects/p-list/models/m${i}/aliases/prod` })).approval!.id);
    }
    await lister.reject({ approvalId: ids[2] });

    const pages: string[][] = [];
    let pageToken = '';
    do {
      const page = await lister.listApprovals({ projectId: 'p-list', pageSize: 2, pageToken });
      pages.push(page.approvals.map((a) => a.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);

    const rejected = await lister.listApprovals({ projectId: 'p-list', state: ApprovalState.REJECTED });
    expect(rejected.approvals.map((a) => a.id)).toEqual([ids[2]]);
    expect(rejected.nextPageToken).toBe('');
    await settled();
    expect(audits.filter((e) => e.projectId === 'p-list').map((e) => e.method.split('/')[1])).toEqual([
      ...Array(5).fill('RequestApproval'),
      'Reject',
    ]);
    await expect(lister.listApprovals({ projectId: 'p-list', pageToken: 'forged' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'page_token: is not a token a previous page of this list returned',
    });
  });

  it('refuses invalid input with INVALID_ARGUMENT naming the field', async () => {
    await expect(alice.requestApproval({ ...ask, action: 'Promote' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^action: /),
    });
    await expect(alice.requestApproval({ ...ask, resource: '' })).rejects.toMatchObject({ details: 'resource: is required' });
    const { approval } = await alice.requestApproval(ask);
    await expect(bob.approve({ approvalId: approval!.id, comment: 'c'.repeat(2049) })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'comment: must be at most 2048 characters',
    });
    await expect(bob.listApprovals({ projectId: 'p1', state: 9 as ApprovalState })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'state: unknown state 9',
    });
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(approvalTest.grpcServices, service.grpcAddress);
    expect(results).toHaveLength(ApprovalServiceDesc.methods.length);
    for (const result of results) expect(result).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});
