// The kit's transactional outbox under group commit, as compute's SubmitJob writes it (issue 14):
// BENCH_TX (default 300) transactions one after another, each writing BENCH_EVENTS (default 64)
// events and as many audit records (built before the clock starts) with `Outbox.publishAll` (one call each, as `AuditRecorder.
// recordAllIn` does), while an OutboxRelay woken at each commit delivers them to an in-process
// subscriber and deletes them. A transaction is done when it committed; the run is done when every
// event was delivered and the outbox is empty. SQLite (a file: WAL, synchronous FULL, as
// `openDatabase` opens it) by default, PostgreSQL with BENCH_DATABASE=postgres. Figures:
// transactions/s, events/s and the process's CPU ms per transaction. Baseline in the same run: the
// same rows, one multi-row INSERT per transaction into a plain table of the same columns, no relay.
// Run: node tools/bench/run.cjs tools/bench/events/outbox.bench.ts
import 'reflect-metadata';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { InProcessBus, openDatabase, Outbox, OutboxRelay, type OutboxEvent } from '@trellis/platform';
import { AuditEventSchema, Outcome, type AuditEvent } from '@trellis/proto';
import { createTestDatabase, testSqliteDatabase } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { setImmediate } from 'node:timers/promises';
import type { DataSource } from 'typeorm';

const TRANSACTIONS = Number(process.env.BENCH_TX ?? 300);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 64);
const POSTGRES = process.env.BENCH_DATABASE === 'postgres';
const SUBJECT = 'trellis.bench.v1.audit.recorded';

function event(index: number): OutboxEvent {
  const message = create(AuditEventSchema, {
    id: randomUUID(),
    service: 'compute',
    actor: 'erin',
    action: 'create',
    method: 'trellis.compute.v1.JobService/SubmitJob',
    resource: `projects/p1/jobs/${randomUUID()}`,
    projectId: 'p1',
    outcome: Outcome.SUCCEEDED,
    requestId: `bench-${index}`,
    eventTime: timestampNow(),
    clientAddress: 'ipv4:127.0.0.1:51234',
  });
  return { subject: SUBJECT, schema: AuditEventSchema, message, projectId: 'p1', actor: 'erin', requestId: `bench-${index}` };
}

/** Writes the transactions through the outbox with a relay draining it; returns seconds and CPU ms. */
async function throughOutbox(dataSource: DataSource, transactions: number): Promise<{ seconds: number; cpuMs: number }> {
  const bus = new InProcessBus();
  let delivered = 0;
  let allDelivered = () => undefined as void;
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  const total = transactions * EVENTS * 2;
  await bus.subscribe({ durable: 'bench', subject: 'trellis.bench.>', handler: async () => void (++delivered === total && allDelivered()) });
  const relay = new OutboxRelay({ dataSource, bus });
  const outbox = new Outbox({ relay });
  relay.start();
  const batches = Array.from({ length: transactions }, (_, tx) => [0, 1].map(() => Array.from({ length: EVENTS }, (_, index) => event(tx * EVENTS + index))));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const [events, audits] of batches) {
    await dataSource.transaction(async (manager) => {
      await outbox.publishAll(manager, events);
      await outbox.publishAll(manager, audits);
    });
    // As calls from the network would, leave the relay a turn between transactions.
    await setImmediate();
  }
  await done;
  for (;;) {
    const [{ n }] = (await dataSource.query('SELECT count(*) AS n FROM trellis_outbox')) as Array<{ n: number | string }>;
    if (Number(n) === 0) break;
    await setImmediate();
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await relay.stop();
  await bus.close();
  return { seconds, cpuMs: (used.user + used.system) / 1000 };
}

/** The same rows, one multi-row INSERT per transaction into a plain table, no relay. */
async function plainInserts(dataSource: DataSource, transactions: number): Promise<{ seconds: number; cpuMs: number }> {
  const postgres = dataSource.options.type === 'postgres';
  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS bench_plain (seq ${postgres ? 'bigserial' : 'integer'} PRIMARY KEY, id text NOT NULL UNIQUE, subject text NOT NULL, payload_type text NOT NULL, payload ${postgres ? 'bytea' : 'blob'} NOT NULL, occurred_at ${postgres ? 'timestamptz' : 'datetime'} NOT NULL, request_id text, actor text, project_id text)`,
  );
  const placeholder = (index: number) => (postgres ? `$${index + 1}` : '?');
  const batches = Array.from({ length: transactions }, (_, tx) => Array.from({ length: EVENTS * 2 }, (_, index) => event(tx * EVENTS + index)));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const batch of batches) {
    const rows = batch.map(({ message, subject, requestId }) => [
      randomUUID(),
      subject,
      AuditEventSchema.typeName,
      Buffer.from(toBinary(AuditEventSchema, message as AuditEvent)),
      postgres ? new Date() : new Date().toISOString(),
      requestId,
      'erin',
      'p1',
    ]);
    const values = rows.map((row, r) => `(${row.map((_, c) => placeholder(r * row.length + c)).join(', ')})`).join(', ');
    await dataSource.transaction((manager) =>
      manager.query(`INSERT INTO bench_plain (id, subject, payload_type, payload, occurred_at, request_id, actor, project_id) VALUES ${values}`, rows.flat()),
    );
    await setImmediate();
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const database = POSTGRES ? await createTestDatabase() : testSqliteDatabase();
  const dataSource = await openDatabase({ service: 'outbox-bench', database: database.config });
  try {
    console.log(
      `outbox under group commit (${POSTGRES ? 'PostgreSQL' : 'SQLite file, WAL, synchronous FULL'}): ${TRANSACTIONS} transactions of ${EVENTS} events + ${EVENTS} audit records; ${cpus().length} CPUs, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}`,
    );
    // Warm-up of both (compilation, first statements), not counted.
    await plainInserts(dataSource, 20);
    await throughOutbox(dataSource, 20);
    const baseline = await plainInserts(dataSource, TRANSACTIONS);
    const outbox = await throughOutbox(dataSource, TRANSACTIONS);
    const report = (name: string, { seconds, cpuMs }: { seconds: number; cpuMs: number }) =>
      console.log(`${name}: ${(TRANSACTIONS / seconds).toFixed(0)} transactions/s, ${((TRANSACTIONS * EVENTS * 2) / seconds).toFixed(0)} events/s, ${(cpuMs / TRANSACTIONS).toFixed(2)} CPU ms per transaction`);
    report('plain multi-row INSERTs, no relay', baseline);
    report('Outbox.publishAll with the relay delivering', outbox);
    console.log(`ratio: ${(outbox.seconds / baseline.seconds).toFixed(2)}x the baseline's time`);
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}

void main();
