import { createLogger, Outbox } from '@trellis/platform';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { eventually, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { lastCheckpoint } from './audit-checkpoint.repository';
import { AuditCheckpointer } from './audit-checkpointer';
import type { CheckpointKey, CheckpointKeySource } from './checkpoint-key';
import { CheckpointSigner } from './checkpoint-signer';
import { governanceConfig, type GovernanceConfig } from '../governance.config';
import { appendEvents, auditEvent, openAuditDatabase } from './test-fixtures/audit-fixtures';

describe('AuditCheckpointer', () => {
  let database: TestDatabase<{ type: 'sqlite'; path: string }>;
  let dataSource: DataSource;
  let checkpointer: AuditCheckpointer | undefined;
  let stopping: AbortController;
  let running: Promise<void>;
  const logged: string[] = [];

  const start = (settings: Partial<GovernanceConfig>, key: CheckpointKey) => {
    const keys = { key: async () => key } as CheckpointKeySource;
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void logged.push(chunk.toString())) });
    checkpointer = new AuditCheckpointer(dataSource, new Outbox(), keys, { ...governanceConfig.parse({}), ...settings }, createLogger({ level: 'error', destination: sink }));
    stopping = new AbortController();
    running = checkpointer.run(stopping.signal);
    return checkpointer;
  };
  const last = () => dataSource.transaction((manager) => lastCheckpoint(manager));

  beforeEach(async () => {
    database = testSqliteDatabase();
    dataSource = await openAuditDatabase(database.config);
    logged.length = 0;
  });

  afterEach(async () => {
    stopping.abort();
    await running;
    await checkpointer?.onModuleDestroy();
    await dataSource.destroy();
    await database.drop();
  });

  it('signs the head every checkpointEverySeconds once records were appended', async () => {
    start({ checkpointEverySeconds: 1 }, { signer: new CheckpointSigner(new MemoryKeyManager()) });
    await appendEvents(dataSource, [auditEvent(), auditEvent(), auditEvent()]);

    await eventually(async () => expect(await last()).toMatchObject({ number: 1n, sequence: 3n }));
  });

  it('signs once checkpointEveryRecords records were reported appended, and not before', async () => {
    const running = start({ checkpointEveryRecords: 5, checkpointEverySeconds: 86400 }, { signer: new CheckpointSigner(new MemoryKeyManager()) });
    await appendEvents(dataSource, [auditEvent(), auditEvent(), auditEvent(), auditEvent()]);
    running.recordsAppended(4);
    expect(await running.checkpointNow()).toMatchObject({ number: 1n, sequence: 4n });

    await appendEvents(dataSource, [auditEvent(), auditEvent(), auditEvent(), auditEvent()]);
    running.recordsAppended(4);
    await appendEvents(dataSource, [auditEvent()]);
    running.recordsAppended(1);

    await eventually(async () => expect(await last()).toMatchObject({ number: 2n, sequence: 9n }));
  });

  it('logs a checkpoint that could not be signed, and signs at the next occasion', async () => {
    const kms = new MemoryKeyManager();
    const failing = jest.spyOn(kms, 'mac').mockRejectedValueOnce(new Error('KMS unreachable'));
    const running = start({ checkpointEveryRecords: 1, checkpointEverySeconds: 86400 }, { signer: new CheckpointSigner(kms) });
    await appendEvents(dataSource, [auditEvent()]);
    running.recordsAppended(1);
    await eventually(() => expect(logged.join('')).toContain('could not sign an audit checkpoint'));
    expect(await last()).toBeUndefined();

    running.recordsAppended(1);
    await eventually(async () => expect(await last()).toMatchObject({ number: 1n, sequence: 1n }));
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('refuses a checkpoint on demand when checkpoints are off, saying why', async () => {
    const running = start({}, { off: 'no KMS here' });
    await appendEvents(dataSource, [auditEvent()]);
    await expect(running.checkpointNow()).rejects.toThrow('audit checkpoints are off: no KMS here');
  });
});
