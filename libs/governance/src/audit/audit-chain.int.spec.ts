import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DatabaseConfig } from '@trellis/platform';
import { fromBinary } from '@bufbuild/protobuf';
import { Outbox, OutboxEntity } from '@trellis/platform';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { AuditCheckpointedEventSchema } from '@trellis/proto';
import type { DataSource } from 'typeorm';
import { AuditChain } from './audit-chain';
import { auditCheckpointOf, auditFieldsOf } from './audit.mapping';
import { findRecords, readChainHead } from './audit-record.repository';
import { chainHash, GENESIS_HASH } from './canonical';
import { AUDIT_CHECKPOINTED_SUBJECT, createCheckpoint } from './checkpoint';
import { CHECKPOINT_KEY_ID, CheckpointSigner } from './checkpoint-signer';
import { appendEvents, auditEvent, openAuditDatabase, rewriteChainFrom, tamper, UNSIGNED } from './test-fixtures/audit-fixtures';
import { verifyAuditChain } from './verify';

const engines: Array<[string, () => Promise<TestDatabase<DatabaseConfig>>]> = [
  ['PostgreSQL', () => createTestDatabase()],
  ['SQLite', async () => testSqliteDatabase()],
];

describe.each(engines)('the audit chain on %s', (_engine, createDatabase) => {
  let database: TestDatabase<DatabaseConfig>;
  let dataSource: DataSource;

  const all = () => dataSource.transaction((manager) => findRecords(manager, { projects: 'all' }, { after: 0n, limit: 10_000 }));
  const appendMany = async (count: number) => {
    const events = Array.from({ length: count }, (_, index) => auditEvent({ resource: `runs/r-${index + 1}` }));
    await appendEvents(dataSource, events);
    return events;
  };

  beforeEach(async () => {
    database = await createDatabase();
    dataSource = await openAuditDatabase(database.config);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('numbers records from 1, chains each to the one before, and moves the head', async () => {
    const events = await appendMany(3);
    const appended = await appendEvents(dataSource, [auditEvent({ actor: 'user-2' })]);

    const records = await all();
    expect(records.map((record) => record.sequence)).toEqual([1n, 2n, 3n, 4n]);
    expect(records.slice(0, 3).map((record) => record.fields.eventId)).toEqual(events.map((event) => event.id));
    let previousHash = GENESIS_HASH;
    for (const record of records) {
      expect(record.previousHash).toBe(previousHash);
      expect(record.hash).toBe(chainHash(previousHash, record.fields));
      previousHash = record.hash;
    }
    expect(appended).toEqual([{ sequence: 4n, eventId: records[3].fields.eventId, hash: records[3].hash }]);
    expect(await dataSource.transaction((manager) => readChainHead(manager))).toEqual({ sequence: 4n, hash: previousHash });
    expect(await verifyAuditChain(dataSource, UNSIGNED)).toMatchObject({ intact: true, recordsChecked: 4n, firstBadSequence: 0n });
  });

  it('stores the event columns exactly, so Verify recomputes the hash from them alone', async () => {
    const event = auditEvent({ reason: 'quote " backslash \\ newline \n emoji 😀', eventTime: { seconds: 1767225600n, nanos: 123_456_789 } });
    await appendEvents(dataSource, [event]);
    const [record] = await all();
    expect(record.fields).toEqual(auditFieldsOf(event));
    expect(record.fields.occurredAtUs).toBe(1767225600123456n);
  });

  it('stores an event once, however often it is appended', async () => {
    const event = auditEvent();
    expect(await appendEvents(dataSource, [event, event])).toHaveLength(1);
    expect(await appendEvents(dataSource, [event, auditEvent()])).toMatchObject([{ sequence: 2n }]);
    expect(await appendEvents(dataSource, [event])).toEqual([]);
    expect((await all()).map((record) => record.sequence)).toEqual([1n, 2n]);
  });

  it('appends nothing from a transaction that rolls back', async () => {
    const chain = new AuditChain();
    await expect(
      dataSource.transaction(async (manager) => {
        await chain.append(manager, [auditEvent()]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await appendEvents(dataSource, [auditEvent()]);
    expect((await all()).map((record) => record.sequence)).toEqual([1n]);
    expect((await verifyAuditChain(dataSource, UNSIGNED)).intact).toBe(true);
  });

  it('refuses to append outside a transaction', async () => {
    await expect(new AuditChain().append(dataSource.manager, [auditEvent()])).rejects.toThrow('needs the EntityManager of an open transaction');
  });

  it('refuses UPDATE and DELETE of records in the database itself', async () => {
    await appendMany(2);
    await expect(dataSource.query(`UPDATE audit_records SET actor = 'mallory'`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(dataSource.query('DELETE FROM audit_records')).rejects.toThrow(/append-only: DELETE refused/);
    expect(await all()).toHaveLength(2);
  });

  it('names a record altered behind the service’s back', async () => {
    await appendMany(20);
    await tamper(dataSource, `UPDATE audit_records SET actor = 'mallory' WHERE sequence = 13`);

    expect(await verifyAuditChain(dataSource, UNSIGNED, { batchSize: 4 })).toMatchObject({ intact: false, recordsChecked: 13n, firstBadSequence: 13n, problem: 'altered' });
  });

  it('names a deleted record as missing', async () => {
    await appendMany(10);
    await tamper(dataSource, 'DELETE FROM audit_records WHERE sequence = 6');

    expect(await verifyAuditChain(dataSource, UNSIGNED, { batchSize: 4 })).toMatchObject({ intact: false, firstBadSequence: 6n, problem: 'missing' });
  });

  it('names records deleted from the end as missing', async () => {
    await appendMany(10);
    await tamper(dataSource, 'DELETE FROM audit_records WHERE sequence > 8');

    expect(await verifyAuditChain(dataSource, UNSIGNED)).toMatchObject({ intact: false, firstBadSequence: 9n, problem: 'missing' });
  });

  it('names a forged record added after the last one as inserted', async () => {
    await appendMany(5);
    const [last] = (await all()).slice(-1);
    const fields = auditFieldsOf(auditEvent({ actor: 'mallory' }));
    await tamper(dataSource, insertSql(6n, fields, last.hash, chainHash(last.hash, fields)));

    expect(await verifyAuditChain(dataSource, UNSIGNED)).toMatchObject({ intact: false, recordsChecked: 5n, firstBadSequence: 6n, problem: 'inserted' });
  });

  it('names a forged record slipped into the middle, the rest renumbered, as inserted', async () => {
    await appendMany(10);
    const fourth = (await all())[3];
    await tamper(dataSource, 'UPDATE audit_records SET sequence = -sequence WHERE sequence >= 5');
    await tamper(dataSource, 'UPDATE audit_records SET sequence = 1 - sequence WHERE sequence < 0');
    const fields = auditFieldsOf(auditEvent({ actor: 'mallory' }));
    await tamper(dataSource, insertSql(5n, fields, fourth.hash, chainHash(fourth.hash, fields)));

    expect(await verifyAuditChain(dataSource, UNSIGNED, { batchSize: 3 })).toMatchObject({ intact: false, firstBadSequence: 5n, problem: 'inserted' });
  });

  describe('checkpoints', () => {
    const signer = new CheckpointSigner(new MemoryKeyManager());
    const key = { signer };
    const checkpoint = () => createCheckpoint(dataSource, new Outbox(), signer);
    /** Appends each batch of records and signs the head after it. */
    const checkpointedBatches = async (...batches: number[]) => {
      for (const count of batches) {
        await appendMany(count);
        await checkpoint();
      }
    };

    it('sign the head, numbered from 1, once per head, each stored and published through the outbox', async () => {
      expect(await checkpoint()).toBeUndefined();
      await appendMany(5);
      const first = await checkpoint();
      expect(first).toMatchObject({ number: 1n, sequence: 5n, headHash: (await all())[4].hash, keyId: CHECKPOINT_KEY_ID });
      expect(await checkpoint()).toEqual(first);
      await appendMany(3);
      const second = await checkpoint();
      expect(second).toMatchObject({ number: 2n, sequence: 8n });

      const published = await dataSource.getRepository(OutboxEntity).find({ where: { subject: AUDIT_CHECKPOINTED_SUBJECT }, order: { seq: 'ASC' } });
      expect(published.map((row) => fromBinary(AuditCheckpointedEventSchema, row.payload).checkpoint)).toEqual([auditCheckpointOf(first!), auditCheckpointOf(second!)]);
      expect(await verifyAuditChain(dataSource, key)).toEqual({
        intact: true,
        recordsChecked: 8n,
        firstBadSequence: 0n,
        checkpointsChecked: 2n,
        firstBadCheckpoint: 0n,
        recordsNotCovered: 0n,
        detail: 'every record fits the chain and its 2 checkpoints; the last, number 2, covers the records up to 8',
      });
    });

    it('refuse UPDATE and DELETE in the database itself', async () => {
      await checkpointedBatches(2);
      await expect(dataSource.query(`UPDATE audit_checkpoints SET head_hash = 'x'`)).rejects.toThrow(/audit_checkpoints is append-only: UPDATE refused/);
      await expect(dataSource.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/audit_checkpoints is append-only: DELETE refused/);
    });

    it('expose a row edited and every later hash recomputed, which the hashes alone cannot show', async () => {
      await checkpointedBatches(10, 10);
      await appendMany(5);

      await rewriteChainFrom(dataSource, 7n);

      expect(await verifyAuditChain(dataSource, UNSIGNED)).toMatchObject({ intact: true, recordsChecked: 25n });
      expect(await verifyAuditChain(dataSource, key, { batchSize: 4 })).toMatchObject({
        intact: false,
        recordsChecked: 10n,
        firstBadSequence: 10n,
        problem: 'rewritten',
        firstBadCheckpoint: 1n,
        checkpointsChecked: 0n,
        detail: "record 10's hash is not the one checkpoint 1 signed: the chain was rewritten at or after its first record, with every later hash recomputed",
      });
    });

    it('leave a rewrite after the last checkpoint unseen, and say how many records that may be', async () => {
      await checkpointedBatches(10);
      await appendMany(5);
      await rewriteChainFrom(dataSource, 12n);
      expect(await verifyAuditChain(dataSource, key)).toMatchObject({ intact: true, checkpointsChecked: 1n, recordsNotCovered: 5n });
    });

    it('expose a checkpoint whose MAC or head was altered in the database, or that was deleted', async () => {
      await checkpointedBatches(4, 4, 4);
      const [mac] = await dataSource.query('SELECT mac FROM audit_checkpoints WHERE number = 2');
      const altered = Buffer.from(mac.mac, 'base64');
      altered[altered.length - 1] ^= 1;

      await tamper(dataSource, `UPDATE audit_checkpoints SET mac = '${altered.toString('base64')}' WHERE number = 2`);
      expect(await verifyAuditChain(dataSource, key)).toMatchObject({
        intact: false,
        problem: 'checkpoint_forged',
        firstBadCheckpoint: 2n,
        detail: 'checkpoint 2: its MAC does not verify under key trellis-audit-checkpoints: the checkpoint or its MAC was altered',
      });
      await tamper(dataSource, `UPDATE audit_checkpoints SET mac = '${mac.mac}', head_hash = '${'0'.repeat(64)}' WHERE number = 2`);
      expect(await verifyAuditChain(dataSource, key)).toMatchObject({ intact: false, problem: 'checkpoint_forged', firstBadCheckpoint: 2n });
      await tamper(dataSource, 'DELETE FROM audit_checkpoints WHERE number = 2');
      expect(await verifyAuditChain(dataSource, key)).toMatchObject({ intact: false, problem: 'checkpoint_missing', firstBadCheckpoint: 2n });
    });

    it('expose records cut off the end with the head moved back, by a checkpoint that covers them', async () => {
      await checkpointedBatches(10);
      const eighth = (await all())[7];
      await tamper(dataSource, 'DELETE FROM audit_records WHERE sequence > 8');
      await tamper(dataSource, `UPDATE audit_chain_head SET sequence = 8, hash = '${eighth.hash}' WHERE id = 1`);

      expect(await verifyAuditChain(dataSource, UNSIGNED)).toMatchObject({ intact: true });
      expect(await verifyAuditChain(dataSource, key)).toMatchObject({ intact: false, problem: 'missing', firstBadSequence: 9n, firstBadCheckpoint: 1n });
    });
  });

  it('finds records by project, actor, exact or prefix resource and time, in sequence order', async () => {
    const at = (seconds: number) => ({ seconds: BigInt(1767225600 + seconds) });
    await appendEvents(dataSource, [
      auditEvent({ projectId: 'p1', actor: 'ann', resource: 'runs/r-1', eventTime: at(0) }),
      auditEvent({ projectId: 'p2', actor: 'bob', resource: 'runs/r-2', eventTime: at(10) }),
      auditEvent({ projectId: 'p1', actor: 'bob', resource: 'projects/p1/models/m-1', eventTime: at(20) }),
      auditEvent({ projectId: 'p3', actor: 'ann', resource: 'Runs/r-3', eventTime: at(30) }),
      auditEvent({ projectId: 'p1', actor: 'ann', resource: 'runs', eventTime: at(40) }),
    ]);
    const find = (filter: Omit<Parameters<typeof findRecords>[1], 'projects'> & { projects?: string[] | 'all' }, after = 0n, limit = 100) =>
      dataSource
        .transaction((manager) => findRecords(manager, { projects: 'all', ...filter }, { after, limit }))
        .then((records) => records.map((record) => Number(record.sequence)));

    expect(await find({ projects: ['p1', 'p3'] })).toEqual([1, 3, 4, 5]);
    expect(await find({ projects: [] })).toEqual([]);
    expect(await find({ projectId: 'p1', actor: 'ann' })).toEqual([1, 5]);
    expect(await find({ resource: { exact: 'runs' } })).toEqual([5]);
    expect(await find({ resource: { prefix: 'runs/' } })).toEqual([1, 2]);
    expect(await find({ resource: { prefix: 'runs' } })).toEqual([1, 2, 5]);
    expect(await find({ startUs: 10_000_000n + 1767225600_000_000n, endUs: 40_000_000n + 1767225600_000_000n })).toEqual([2, 3, 4]);
    expect(await find({ actor: 'bob' }, 2n)).toEqual([3]);
    expect(await find({}, 1n, 2)).toEqual([2, 3]);
  });
});

describe('the audit chain on PostgreSQL, appended to by several processes at once', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let processes: DataSource[];

  beforeEach(async () => {
    database = await createTestDatabase();
    processes = [await openAuditDatabase(database.config), await openAuditDatabase(database.config)];
  });

  afterEach(async () => {
    await Promise.all(processes.map((process) => process.destroy()));
    await database.drop();
  });

  it('never forks: every record gets its own sequence and chains to the one before, while Verify runs', async () => {
    const appends = Array.from({ length: 60 }, (_, index) => {
      const events = index % 10 === 0 ? Array.from({ length: 25 }, () => auditEvent()) : [auditEvent()];
      return appendEvents(processes[index % 2], events);
    });
    const duringAppends = verifyAuditChain(processes[0], UNSIGNED, { batchSize: 7 });
    const appended = (await Promise.all(appends)).flat();
    const total = 54 + 6 * 25;

    expect((await duringAppends).intact).toBe(true);
    expect(appended.map((record) => record.sequence).sort((a, b) => Number(a - b))).toEqual(Array.from({ length: total }, (_, index) => BigInt(index + 1)));
    expect(await verifyAuditChain(processes[1], UNSIGNED)).toMatchObject({ intact: true, recordsChecked: BigInt(total), firstBadSequence: 0n });
  });
});

function insertSql(sequence: bigint, fields: ReturnType<typeof auditFieldsOf>, previousHash: string, hash: string): string {
  const text = (value: string) => `'${value.replace(/'/g, "''")}'`;
  const values = [
    String(sequence),
    text(fields.eventId),
    ...[fields.service, fields.actor, fields.action, fields.method, fields.resource, fields.projectId, fields.outcome, fields.reason, fields.requestId].map(text),
    String(fields.occurredAtUs),
    text(fields.clientAddress),
    text(previousHash),
    text(hash),
  ];
  return `INSERT INTO audit_records (sequence, event_id, service, actor, action, method, resource, project_id, outcome, reason, request_id,
    occurred_at_us, client_address, previous_hash, hash) VALUES (${values.join(', ')})`;
}
