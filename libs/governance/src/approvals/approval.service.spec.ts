import { fromBinary } from '@bufbuild/protobuf';
import {
  abilityFor,
  AuditRecorder,
  Caller,
  FailedPreconditionError,
  NotFoundError,
  openDatabase,
  Outbox,
  OutboxEntity,
  PermissionDeniedError,
  type Principal,
  type ProjectRole,
} from '@trellis/platform';
import { AuditEventSchema, Outcome } from '@trellis/proto';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { governanceService } from '../governance.definition';
import { ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';

function callerOf(id: string, bindings: Array<[string, ProjectRole]>, requestId = `req-${id}`): Caller {
  const principal: Principal = {
    id,
    kind: 'user',
    orgId: 'org-1',
    orgAdmin: false,
    bindings: bindings.map(([projectId, role]) => ({ projectId, role })),
    expiresAt: Date.now() + 60_000, scoped: false,
  };
  return new Caller(principal, abilityFor(principal), requestId, undefined, '127.0.0.1:5000');
}

const alice = callerOf('alice', [['p1', 'editor']]);
const bob = callerOf('bob', [['p1', 'editor']]);
const owner = callerOf('olga', [['p1', 'owner']]);
const viewer = callerOf('vic', [['p1', 'viewer'], ['p2', 'editor']]);
const outsider = callerOf('oscar', [['p2', 'owner']]);

const ask = { projectId: 'p1', action: 'registry.alias.set', resource: 'projects/p1/models/churn/aliases/champion', details: { version: '7' } };

describe('ApprovalService', () => {
  let dataSource: DataSource;
  let approvals: ApprovalService;

  beforeEach(async () => {
    dataSource = await openDatabase({
      service: 'approvals',
      database: { type: 'sqlite', path: ':memory:' },
      entities: governanceService.entities,
      migrations: governanceService.migrations,
    });
    approvals = new ApprovalService(new ApprovalRepository(dataSource), new AuditRecorder('governance', dataSource, new Outbox(), pino({ level: 'silent' })));
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  async function auditEvents() {
    const rows = await dataSource.getRepository(OutboxEntity).find({ order: { seq: 'ASC' } });
    return rows.map((row) => ({ row, event: fromBinary(AuditEventSchema, row.payload) }));
  }

  describe('request', () => {
    it('stores a pending request by the caller and audits it', async () => {
      const approval = await approvals.request(alice, ask);

      expect(approval).toMatchObject({ ...ask, requesterId: 'alice', state: 'pending', deciderId: null, decidedAt: null });
      expect(await approvals.get(bob, approval.id)).toMatchObject({ id: approval.id, details: { version: '7' } });
      const [audit, ...more] = await auditEvents();
      expect(more).toEqual([]);
      expect(audit.row).toMatchObject({ subject: 'trellis.governance.v1.audit.recorded', actor: 'alice', requestId: 'req-alice', projectId: 'p1' });
      expect(audit.event).toMatchObject({
        service: 'governance',
        actor: 'alice',
        resource: `projects/p1/approvals/${approval.id}`,
        projectId: 'p1',
        outcome: Outcome.SUCCEEDED,
        reason: '',
        requestId: 'req-alice',
        clientAddress: '127.0.0.1:5000',
      });
      expect(audit.event.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a viewer and a member of another project, storing nothing', async () => {
      await expect(approvals.request(viewer, ask)).rejects.toThrow(new PermissionDeniedError('vic may not create Approval in project p1'));
      await expect(approvals.request(outsider, ask)).rejects.toThrow(PermissionDeniedError);
      expect((await approvals.list(owner, { projectId: 'p1', state: null, pageSize: 0, pageToken: '' })).approvals).toEqual([]);
      expect(await auditEvents()).toEqual([]);
    });

    it('refuses invalid input, naming the field', async () => {
      await expect(approvals.request(alice, { ...ask, action: 'Promote!' })).rejects.toThrow(/^action: /);
    });
  });

  describe('four eyes', () => {
    it('never lets the requester approve their own request', async () => {
      const { id } = await approvals.request(alice, ask);

      await expect(approvals.approve(alice, id, 'looks fine to me')).rejects.toThrow(
        new PermissionDeniedError('you requested this approval; someone else must approve it'),
      );
      expect((await approvals.get(alice, id)).state).toBe('pending');
      expect(await auditEvents()).toHaveLength(1);
    });

    it('never lets the requester approve, even with a stronger role', async () => {
      const { id } = await approvals.request(owner, ask);
      await expect(approvals.approve(owner, id, '')).rejects.toThrow(PermissionDeniedError);
    });

    it('lets someone else approve, recording who, when and why, and audits it', async () => {
      const { id } = await approvals.request(alice, ask);

      const approved = await approvals.approve(bob, id, 'ship it');

      expect(approved).toMatchObject({ id, state: 'approved', requesterId: 'alice', deciderId: 'bob', comment: 'ship it' });
      expect(approved.decidedAt).toBeInstanceOf(Date);
      expect(await approvals.get(alice, id)).toMatchObject({ state: 'approved', deciderId: 'bob' });
      const events = await auditEvents();
      expect(events.map(({ event }) => event.actor)).toEqual(['alice', 'bob']);
      expect(events[1].event).toMatchObject({ resource: `projects/p1/approvals/${id}`, projectId: 'p1', requestId: 'req-bob', outcome: Outcome.SUCCEEDED });
    });

    it('lets the requester reject their own request, which withdraws it', async () => {
      const { id } = await approvals.request(alice, ask);

      const withdrawn = await approvals.reject(alice, id, 'asked by mistake');

      expect(withdrawn).toMatchObject({ state: 'rejected', deciderId: 'alice', comment: 'asked by mistake' });
      expect((await auditEvents()).map(({ event }) => [event.actor, event.resource])).toEqual([
        ['alice', `projects/p1/approvals/${id}`],
        ['alice', `projects/p1/approvals/${id}`],
      ]);
    });
  });

  describe('state transitions', () => {
    it.each([
      ['approved', 'approve'],
      ['approved', 'reject'],
      ['rejected', 'approve'],
      ['rejected', 'reject'],
    ] as const)('refuses to %s -> %s, naming the current state', async (first, then) => {
      const { id } = await approvals.request(alice, ask);
      await (first === 'approved' ? approvals.approve(bob, id, '') : approvals.reject(bob, id, ''));

      const second = then === 'approve' ? approvals.approve(owner, id, '') : approvals.reject(owner, id, '');

      await expect(second).rejects.toThrow(
        new FailedPreconditionError(`approval ${id} is already ${first}; only a pending request can be ${then === 'approve' ? 'approved' : 'rejected'}`),
      );
      expect(await approvals.get(alice, id)).toMatchObject({ state: first, deciderId: 'bob' });
      expect(await auditEvents()).toHaveLength(2);
    });

    it('lets exactly one of two concurrent approvals win', async () => {
      const { id } = await approvals.request(alice, ask);

      const results = await Promise.allSettled([approvals.approve(bob, id, 'bob'), approvals.approve(owner, id, 'olga')]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [refused] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused.reason).toBeInstanceOf(FailedPreconditionError);
      expect(await auditEvents()).toHaveLength(2);
    });
  });

  describe('who may decide and see', () => {
    it('refuses a viewer of the project a decision, but lets them read', async () => {
      const { id } = await approvals.request(alice, ask);

      await expect(approvals.approve(viewer, id, '')).rejects.toThrow(new PermissionDeniedError('vic may not update Approval in project p1'));
      await expect(approvals.reject(viewer, id, '')).rejects.toThrow(PermissionDeniedError);
      expect((await approvals.get(viewer, id)).state).toBe('pending');
    });

    it('answers NOT_FOUND to someone who may not read the project, as for an unknown id', async () => {
      const { id } = await approvals.request(alice, ask);

      const notFound = new NotFoundError(`approval ${id} not found`);
      await expect(approvals.get(outsider, id)).rejects.toThrow(notFound);
      await expect(approvals.approve(outsider, id, '')).rejects.toThrow(notFound);
      await expect(approvals.reject(outsider, id, '')).rejects.toThrow(notFound);
      await expect(approvals.get(alice, 'no-such-id')).rejects.toThrow(new NotFoundError('approval no-such-id not found'));
      expect((await approvals.get(alice, id)).state).toBe('pending');
    });
  });

  describe('list', () => {
    it('pages a project newest first, filtered by state', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await approvals.request(alice, { ...ask, resource: `projects/p1/models/m${i}/aliases/prod` })).id);
      await approvals.request(outsider, { ...ask, projectId: 'p2' });
      await approvals.approve(bob, ids[1], '');
      await approvals.reject(bob, ids[3], '');

      const seen: string[] = [];
      let pageToken = '';
      do {
        const page = await approvals.list(viewer, { projectId: 'p1', state: null, pageSize: 2, pageToken });
        expect(page.approvals.length).toBeLessThanOrEqual(2);
        seen.push(...page.approvals.map((a) => a.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(seen).toEqual([...ids].reverse());

      const pending = await approvals.list(viewer, { projectId: 'p1', state: 'pending', pageSize: 0, pageToken: '' });
      expect(pending).toEqual({ approvals: [ids[4], ids[2], ids[0]].map((id) => expect.objectContaining({ id })), nextPageToken: '' });
    });

    it('refuses to list a project the caller may not read', async () => {
      await expect(approvals.list(outsider, { projectId: 'p1', state: null, pageSize: 0, pageToken: '' })).rejects.toThrow(
        new PermissionDeniedError('oscar may not read Approval in project p1'),
      );
    });
  });
});
