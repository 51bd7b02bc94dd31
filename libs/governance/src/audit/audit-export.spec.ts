import { fromJsonString, toJsonString } from '@bufbuild/protobuf';
import { Outbox } from '@trellis/platform';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { AuditCheckpointSchema, AuditRecordSchema } from '@trellis/proto';
import { eventually, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { exportLines } from './audit-export';
import { auditCheckpointOf } from './audit.mapping';
import { createCheckpoint } from './checkpoint';
import { CheckpointSigner } from './checkpoint-signer';
import { appendEvents, auditEvent, openAuditDatabase } from './test-fixtures/audit-fixtures';

/** A stand-in for a grpc-js server stream whose client reads only when the test says so. */
class SlowCall extends EventEmitter {
  writableNeedDrain = true;

  drain(): void {
    this.writableNeedDrain = false;
    this.emit('drain');
  }
}

describe('exportLines', () => {
  let database: TestDatabase<{ type: 'sqlite'; path: string }>;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = testSqliteDatabase();
    dataSource = await openAuditDatabase(database.config);
    await appendEvents(dataSource, Array.from({ length: 25 }, (_, index) => auditEvent({ projectId: index % 5 === 0 ? 'p2' : 'p1' })));
  });

  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('sends the next line only once the call has drained the last', async () => {
    const call = new SlowCall();
    const lines: string[] = [];
    let completed = false;
    exportLines(dataSource, { projects: ['p1'] }, call, 8).subscribe({ next: ({ line }) => lines.push(line), complete: () => (completed = true) });

    await eventually(() => expect(lines).toHaveLength(1));
    await sleep(50);
    expect(lines).toHaveLength(1);
    call.drain();
    await eventually(() => expect(completed).toBe(true));

    expect(lines.map((line) => Number(fromJsonString(AuditRecordSchema, line).sequence))).toEqual(
      Array.from({ length: 25 }, (_, index) => index + 1).filter((sequence) => (sequence - 1) % 5 !== 0),
    );
  });

  it('stops reading when the client goes away', async () => {
    const call = new SlowCall();
    const lines: string[] = [];
    const subscription = exportLines(dataSource, { projects: 'all' }, call, 10).subscribe({ next: ({ line }) => lines.push(line) });
    await eventually(() => expect(lines).toHaveLength(1));
    const reads = jest.spyOn(dataSource, 'transaction');

    subscription.unsubscribe();
    call.drain();
    await sleep(50);

    expect(reads).not.toHaveBeenCalled();
    expect(call.listenerCount('drain')).toBe(0);
  });

  it('leaves out records appended after the export started', async () => {
    const call = new SlowCall();
    const lines: string[] = [];
    let completed = false;
    exportLines(dataSource, { projects: 'all' }, call, 20).subscribe({ next: ({ line }) => lines.push(line), complete: () => (completed = true) });
    await eventually(() => expect(lines).toHaveLength(1));

    await appendEvents(dataSource, [auditEvent(), auditEvent()]);
    call.drain();

    await eventually(() => expect(completed).toBe(true));
    expect(lines).toHaveLength(25);
  });

  it('puts each checkpoint right after the record it covers, also where a filter leaves that record out', async () => {
    const signer = new CheckpointSigner(new MemoryKeyManager());
    await createCheckpoint(dataSource, new Outbox(), signer);
    await appendEvents(dataSource, [auditEvent({ projectId: 'p2' })]);
    const last = await createCheckpoint(dataSource, new Outbox(), signer);
    const linesOf = (projects: string[] | 'all') =>
      new Promise<string[]>((resolve, reject) => {
        const lines: string[] = [];
        exportLines(dataSource, { projects }, undefined, 7).subscribe({ next: ({ line }) => lines.push(line), complete: () => resolve(lines), error: reject });
      });
    const exported = async (projects: string[] | 'all') =>
      (await linesOf(projects)).map((line) => {
        const { checkpoint } = JSON.parse(line) as { checkpoint?: unknown };
        return checkpoint ? `checkpoint ${fromJsonString(AuditCheckpointSchema, JSON.stringify(checkpoint)).sequence}` : Number(fromJsonString(AuditRecordSchema, line).sequence);
      });

    expect(await exported('all')).toEqual([...Array.from({ length: 25 }, (_, index) => index + 1), 'checkpoint 25', 26, 'checkpoint 26']);
    expect((await exported(['p1'])).slice(-4)).toEqual([24, 25, 'checkpoint 25', 'checkpoint 26']);
    expect(await exported(['p2'])).toEqual([1, 6, 11, 16, 21, 'checkpoint 25', 26, 'checkpoint 26']);
    expect((await linesOf('all')).at(-1)).toBe(`{"checkpoint":${toJsonString(AuditCheckpointSchema, auditCheckpointOf(last!), { alwaysEmitImplicit: true })}}\n`);
  });
});
