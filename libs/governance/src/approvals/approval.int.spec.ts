import { fromBinary } from '@bufbuild/protobuf';
import { abilityFor, AuditRecorder, Caller, FailedPreconditionError, openDatabase, Outbox, OutboxEntity, type Principal } from '@trellis/platform';
import pino from 'pino';
import { AuditEventSchema } from '@trellis/proto';
import { createTestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { governanceService } from '../governance.definition';
import { ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';

function editor(id: string): Caller {
  const principal: Principal = {
    id,
    kind: 'user',
    orgId: 'org-1',
    orgAdmin: false,
    bindings: [{ projectId: 'p1', role: 'editor' }],
    expiresAt: Date.now() + 60_000, scoped: false,
  };
  return new Caller(principal, abilityFor(principal), `req-${id}`, undefined, '127.0.0.1:5000');
}

describe('approvals on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let approvals: ApprovalService;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({
      service: 'governance',
      database: database.config,
      entities: governanceService.entities,
      migrations: governanceService.migrations,
    });
    approvals = new ApprovalService(new ApprovalRepository(dataSource), new AuditRecorder('governance', dataSource, new Outbox(), pino({ level: 'silent' })));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('lets exactly one of several concurrent decisions win, each time, with one audit event', async () => {
    const requester = editor('alice');
    const deciders = ['bob', 'carol', 'dave', 'erin'].map(editor);
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      const { id } = await approvals.request(requester, { projectId: 'p1', action: 'registry.alias.set', resource: `projects/p1/models/m${round}/aliases/prod`, details: {} });

      const results = await Promise.allSettled(
        deciders.map((decider, i) => (i % 2 === 0 ? approvals.approve(decider, id, '') : approvals.reject(decider, id, ''))),
      );

      const winners = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(FailedPreconditionError);
      }
      expect(await approvals.get(requester, id)).toMatchObject({ state: winners[0].state, deciderId: winners[0].deciderId });
    }

    const events = (await dataSource.getRepository(OutboxEntity).find()).map((row) => fromBinary(AuditEventSchema, row.payload));
    expect(events.filter((event) => event.actor === requester.principal!.id)).toHaveLength(rounds);
    const decisions = events.filter((event) => event.actor !== requester.principal!.id);
    expect(decisions).toHaveLength(rounds);
    expect(new Set(decisions.map((event) => event.resource)).size).toBe(rounds);
  });

  it('stores and reads back times and details as on SQLite', async () => {
    const alice = editor('alice');
    const before = Date.now();
    const first = await approvals.request(alice, { projectId: 'p1', action: 'a.b', resource: 'r', details: { 'ключ': 'значение' } });
    const decided = await approvals.reject(editor('bob'), first.id, 'no');
    expect(decided.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(decided.decidedAt!.getTime()).toBeGreaterThanOrEqual(decided.createdAt.getTime());
    expect(decided.details).toEqual({ 'ключ': 'значение' });
  });
});
