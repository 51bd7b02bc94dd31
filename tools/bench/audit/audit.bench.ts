// Audit chain on PostgreSQL, in one run on a fresh database:
// - append throughput with the chain (lock the head, skip known event ids, hash, multi-row INSERT,
//   move the head), in batches and one event per transaction, against a baseline of the same rows
//   inserted with plain `pg` INSERTs (no hashing, no lock) into a copy of the table with the same
//   indexes, and the chain/baseline ratio; and the ingest path itself (governance's
//   JetStream durable consumer feeding the chain in group commits, end to end from a stream);
// - Verify over a chain of BENCH_VERIFY_RECORDS records (default 1,000,000), built with batch appends
//   and a checkpoint signed after each batch of 5000 (MemoryKeyManager), so Verify checks those too.
// Run: node tools/bench/run.cjs tools/bench/audit/audit.bench.ts
import 'reflect-metadata';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { JetStreamBus, openDatabase, Outbox, type EventSubscription } from '@trellis/platform';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { AuditEventSchema, EventEnvelopeSchema, Outcome, type AuditEvent } from '@trellis/proto';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { AuditChain } from '../../../libs/governance/src/audit/audit-chain';
import { governanceService } from '../../../libs/governance/src/governance.definition';
import { auditFieldsOf } from '../../../libs/governance/src/audit/audit.mapping';
import { subscribeAuditEvents } from '../../../libs/governance/src/audit/audit-ingest';
import { chainHash, GENESIS_HASH } from '../../../libs/governance/src/audit/canonical';
import { createCheckpoint } from '../../../libs/governance/src/audit/checkpoint';
import { CheckpointSigner } from '../../../libs/governance/src/audit/checkpoint-signer';
import { verifyAuditChain } from '../../../libs/governance/src/audit/verify';

const BATCHED = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 2000);
const INGEST = Number(process.env.BENCH_INGEST ?? 20_000);
const VERIFY_RECORDS = Number(process.env.BENCH_VERIFY_RECORDS ?? 1_000_000);
const FILL_BATCH = 5000;
const TARGET_PER_SECOND = 5000;
const COLUMNS =
  'sequence, event_id, service, actor, action, method, resource, project_id, outcome, reason, request_id, occurred_at_us, client_address, previous_hash, hash';

const SERVICES = ['tracking', 'data', 'compute', 'registry', 'serving', 'monitoring'];
let clock = Date.UTC(2026, 0, 1);

/** An event as the kit would send it, with realistic field sizes. */
function event(): AuditEvent {
  const service = SERVICES[clock % SERVICES.length];
  const denied = clock % 17 === 0;
  return create(AuditEventSchema, {
    id: randomUUID(),
    service,
    actor: `user-${clock % 97}`,
    action: 'create',
    method: `trellis.${service}.v1.RunService/CreateRun`,
    resource: `runs/${randomUUID()}`,
    projectId: `project-${clock % 13}`,
    outcome: denied ? Outcome.DENIED : Outcome.SUCCEEDED,
    reason: denied ? 'user-3 has no role that may create Run in any project' : '',
    requestId: randomUUID(),
    eventTime: timestampFromMs(clock++),
    clientAddress: 'ipv4:10.1.2.3:51234',
  });
}

const events = (count: number) => Array.from({ length: count }, event);

/** The rows the chain would store for `list`, computed up front so the baseline does no hashing. */
function rowsOf(list: AuditEvent[]): unknown[][] {
  let previous = GENESIS_HASH;
  return list.map((item, index) => {
    const f = auditFieldsOf(item);
    const hash = chainHash(previous, f);
    const row = [index + 1, f.eventId, f.service, f.actor, f.action, f.method, f.resource, f.projectId, f.outcome, f.reason, f.requestId, f.occurredAtUs.toString(), f.clientAddress, previous, hash];
    previous = hash;
    return row;
  });
}

async function baselineInsert(client: Client, rows: unknown[][]): Promise<void> {
  const params = rows.flat();
  const values = rows.map((_, row) => `(${Array.from({ length: 15 }, (__, column) => `$${row * 15 + column + 1}`).join(', ')})`);
  await client.query(`INSERT INTO audit_baseline (${COLUMNS}) VALUES ${values.join(', ')}`, params);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const rate = (count: number, seconds: number) => Math.round(count / seconds);
const fmt = (value: number) => value.toLocaleString('en-US');

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const dataSource: DataSource = await openDatabase({ service: 'governance', database: database.config, entities: governanceService.entities, migrations: governanceService.migrations });
  const client = new Client({ connectionString: database.config.url });
  await client.connect();
  const chain = new AuditChain();
  const append = (list: AuditEvent[]) => dataSource.transaction((manager) => chain.append(manager, list)).then(() => undefined);
  const resetBaseline = async () => {
    await client.query('DROP TABLE IF EXISTS audit_baseline');
    await client.query('CREATE TABLE audit_baseline (LIKE audit_records INCLUDING ALL)');
  };
  try {
    const [{ server_version: pgVersion }] = (await client.query('SHOW server_version')).rows;
    console.log('audit chain benchmark');
    console.log(`  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB memory`);
    console.log(`  PostgreSQL ${pgVersion} at ${new URL(database.config.url).host}, fresh database, default settings`);
    console.log('  audit_records: 5 btree indexes (sequence, event_id, (project_id, sequence), (actor, sequence), occurred_at_us)');

    // Warm up both paths (JIT, connection pool, plan caches) on rows that are then discarded.
    await resetBaseline();
    await baselineInsert(client, rowsOf(events(BATCH)));
    for (let i = 0; i < 4; i++) await append(events(BATCH));

    console.log(`\nappend, batches of ${BATCH} (${fmt(BATCHED)} events)`);
    const batched = events(BATCHED);
    const baselineRows = rowsOf(batched);
    await resetBaseline();
    const baselineSeconds = await timed(async () => {
      for (let start = 0; start < baselineRows.length; start += BATCH) await baselineInsert(client, baselineRows.slice(start, start + BATCH));
    });
    const chainSeconds = await timed(async () => {
      for (let start = 0; start < batched.length; start += BATCH) await append(batched.slice(start, start + BATCH));
    });
    const chainRate = rate(BATCHED, chainSeconds);
    console.log(`  chain     ${fmt(chainRate).padStart(9)} events/s  (${chainSeconds.toFixed(2)} s)`);
    console.log(`  baseline  ${fmt(rate(BATCHED, baselineSeconds)).padStart(9)} events/s  (${baselineSeconds.toFixed(2)} s, plain multi-row INSERT, no hashing)`);
    console.log(`  ratio     ${(chainRate / rate(BATCHED, baselineSeconds)).toFixed(2)}  chain/baseline`);
    console.log(`  target    >= ${fmt(TARGET_PER_SECOND)} events/s: ${chainRate >= TARGET_PER_SECOND ? 'met' : 'NOT met'}`);

    console.log(`\nappend, one event per transaction (${fmt(SINGLE)} events)`);
    const singles = events(SINGLE);
    const singleRows = rowsOf(singles);
    await resetBaseline();
    const singleBaseline = await timed(async () => {
      for (const row of singleRows) await baselineInsert(client, [row]);
    });
    const singleChain = await timed(async () => {
      for (const item of singles) await append([item]);
    });
    const singleChainRate = rate(SINGLE, singleChain);
    console.log(`  chain     ${fmt(singleChainRate).padStart(9)} events/s  (${((singleChain / SINGLE) * 1000).toFixed(2)} ms each)`);
    console.log(`  baseline  ${fmt(rate(SINGLE, singleBaseline)).padStart(9)} events/s  (${((singleBaseline / SINGLE) * 1000).toFixed(2)} ms each, autocommit single-row INSERT)`);
    console.log(`  ratio     ${(singleChainRate / rate(SINGLE, singleBaseline)).toFixed(2)}  chain/baseline`);
    await client.query('DROP TABLE audit_baseline');

    console.log(`\ningest through NATS JetStream (${fmt(INGEST)} events waiting in the stream, then consumed)`);
    const nats = testNatsConfig();
    const bus = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix });
    try {
      const envelopes = events(INGEST).map((item) =>
        create(EventEnvelopeSchema, { id: randomUUID(), subject: `trellis.${item.service}.v1.audit.recorded`, payloadType: AuditEventSchema.typeName, payload: toBinary(AuditEventSchema, item) }),
      );
      for (let i = 0; i < envelopes.length; i += 1000) await Promise.all(envelopes.slice(i, i + 1000).map((envelope) => bus.publish(envelope)));
      const countRecords = async () => Number((await client.query('SELECT count(*)::int AS count FROM audit_records')).rows[0].count);
      const before = await countRecords();
      let subscription: EventSubscription | undefined;
      const ingestSeconds = await timed(async () => {
        subscription = await subscribeAuditEvents(bus, dataSource, chain);
        while ((await countRecords()) < before + INGEST) await new Promise((resolve) => setTimeout(resolve, 20));
      });
      await subscription?.stop();
      console.log(`  ingest    ${fmt(rate(INGEST, ingestSeconds)).padStart(9)} events/s  (consume, decode, group commit into the chain, ack)`);
    } finally {
      await bus.close();
      await nats.cleanup();
    }

    const [{ count }] = (await client.query('SELECT count(*)::int AS count FROM audit_records')).rows;
    const missing = VERIFY_RECORDS - count;
    console.log(`\nVerify over ${fmt(VERIFY_RECORDS)} records`);
    const signer = new CheckpointSigner(new MemoryKeyManager());
    const fillSeconds = await timed(async () => {
      for (let done = 0; done < missing; done += FILL_BATCH) {
        await append(events(Math.min(FILL_BATCH, missing - done)));
        await createCheckpoint(dataSource, new Outbox(), signer);
      }
    });
    console.log(`  built by appending ${fmt(missing)} events in batches of ${FILL_BATCH}, a checkpoint after each: ${fillSeconds.toFixed(1)} s (${fmt(rate(missing, fillSeconds))} events/s, event creation included)`);
    await client.query('VACUUM ANALYZE audit_records');
    let verdict: Awaited<ReturnType<typeof verifyAuditChain>> | undefined;
    const verifySeconds = await timed(async () => {
      verdict = await verifyAuditChain(dataSource, { signer });
    });
    if (!verdict?.intact || Number(verdict.recordsChecked) !== VERIFY_RECORDS) throw new Error(`Verify did not find the chain intact: ${JSON.stringify(verdict, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    console.log(`  Verify    ${verifySeconds.toFixed(2)} s, ${fmt(rate(VERIFY_RECORDS, verifySeconds))} records/s (intact, ${fmt(Number(verdict.recordsChecked))} records and ${fmt(Number(verdict.checkpointsChecked))} checkpoints checked, batches of 5000)`);
    const hashesAlone = await timed(async () => void (await verifyAuditChain(dataSource, { off: 'measured without them' })));
    console.log(`  hashes alone  ${hashesAlone.toFixed(2)} s (the same chain, checkpoints not checked)`);
  } finally {
    await client.end();
    await dataSource.destroy();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
