import type { AuditEvent } from '@trellis/proto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Outbox } from '../events';
import type { Logger } from '../ops/logger';
import { AuditRecorder, type AuditedCall } from './audit-recorder';

describe('AuditRecorder', () => {
  const published: Array<{ message: AuditEvent; projectId?: string; requestId?: string }> = [];
  const manager = {} as EntityManager;
  const outbox = { publish: async (_manager: EntityManager, event: (typeof published)[number]) => void published.push(event) } as unknown as Outbox;
  const dataSource = { transaction: (work: (m: EntityManager) => Promise<void>) => work(manager) } as unknown as DataSource;
  const recorder = new AuditRecorder('tracking', dataSource, outbox, {} as Logger);
  beforeEach(() => (published.length = 0));

  const huge = (c: string) => c.repeat(10 * 1024 * 1024);
  const call: AuditedCall = {
    actor: huge('a'),
    action: 'delete',
    method: 'trellis.tracking.v1.RunService/DeleteRun',
    resource: `runs/${huge('r')}`,
    projectId: huge('p'),
    requestId: huge('q'),
    clientAddress: '127.0.0.1:5000',
  };

  it("keeps only a short prefix of each field a caller's values can reach, in the event and on the outbox", async () => {
    await recorder.recordChangeIn(manager, call);
    const [{ message, projectId, requestId }] = published;
    for (const field of [message.actor, message.projectId, message.requestId, projectId, requestId]) {
      expect(field?.length).toBe(256 + '...'.length);
    }
    expect(message.resource).toBe(`runs/${'r'.repeat(1024 - 'runs/'.length)}...`);
    expect(message.method).toBe('trellis.tracking.v1.RunService/DeleteRun');
  });

  it("keeps a denied call's reason to a status's details' length", async () => {
    await recorder.denied({ ...call, resource: 'runs' }, `NOT_FOUND: run ${huge('x')} not found`);
    expect(published[0].message.reason).toBe(`NOT_FOUND: run ${'x'.repeat(1024 - 'NOT_FOUND: run '.length)}...`);
    expect(published[0].message.resource).toBe('runs');
  });
});
