// Events per second through an idempotent subscription, one transaction per event
// (subscribeIdempotent) against one per batch (subscribeIdempotentBatches), in one run: on
// PostgreSQL + NATS JetStream (a private stream on the test server) and on SQLite + the in-process
// bus. Each handler inserts one row per event into a table of the consumer's database, besides the
// inbox row. JetStream: the events are stored first, then the clock runs from subscribing until the
// last row is committed. In-process: the clock runs over publishBatch calls of BENCH_PUBLISH events.
// Run: node tools/bench/run.cjs tools/bench/events/subscribe.bench.ts
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  InProcessBus,
  JetStreamBus,
  openDatabase,
  subscribeIdempotent,
  subscribeIdempotentBatches,
  type EventBus,
  type EventSubscription,
} from '@trellis/platform';
import { AuditEventSchema, EventEnvelopeSchema, Outcome, type EventEnvelope } from '@trellis/proto';
import { createTestDatabase, testNatsConfig, testSqliteDatabase } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { DataSource, EntityManager } from 'typeorm';

const SINGLE = Number(process.env.BENCH_SINGLE ?? 2000);
const BATCHED = Number(process.env.BENCH_BATCHED ?? 50_000);
const MAX_EVENTS = Number(process.env.BENCH_MAX_EVENTS ?? 1000);
const LINGER_MS = Number(process.env.BENCH_LINGER_MS ?? 20);
const PUBLISH = Number(process.env.BENCH_PUBLISH ?? 1000);
const SUBJECT = 'trellis.bench.v1.prediction.logged';

// A prediction log stands in as an AuditEvent of about the same size, as in batch.bench.ts.
function envelope(index: number): EventEnvelope {
  const message = create(AuditEventSchema, {
    id: randomUUID(),
    service: 'serving',
    actor: `sa-endpoint-${index % 7}`,
    action: 'predict',
    method: 'inference.GRPCInferenceService/ModelInfer',
    resource: `Endpoint/${randomUUID()}`,
    projectId: `project-${index % 13}`,
    outcome: Outcome.SUCCEEDED,
    requestId: randomUUID(),
    eventTime: timestampNow(),
  });
  return create(EventEnvelopeSchema, { id: randomUUID(), subject: SUBJECT, payloadType: AuditEventSchema.typeName, payload: toBinary(AuditEventSchema, message) });
}

async function openConsumer(database: Parameters<typeof openDatabase>[0]['database']): Promise<DataSource> {
  const dataSource = await openDatabase({ service: 'bench', database });
  await dataSource.query('CREATE TABLE bench_rows (event_id varchar(36) PRIMARY KEY, project varchar(32) NOT NULL)');
  return dataSource;
}

async function insertRows(manager: EntityManager, rows: ReadonlyArray<{ id: string; project: string }>): Promise<void> {
  const params = manager.connection.options.type === 'postgres' ? (i: number) => `$${i}` : () => '?';
  await manager.query(
    `INSERT INTO bench_rows (event_id, project) VALUES ${rows.map((_, i) => `(${params(2 * i + 1)}, ${params(2 * i + 2)})`).join(', ')}`,
    rows.flatMap((row) => [row.id, row.project]),
  );
}

const rowCount = async (dataSource: DataSource) => Number((await dataSource.query('SELECT count(*) AS n FROM bench_rows'))[0].n);

function subscribe(bus: EventBus, dataSource: DataSource, batched: boolean, durable: string, committed: (count: number) => void): Promise<EventSubscription> {
  if (!batched) {
    return subscribeIdempotent(bus, dataSource, {
      durable,
      subject: SUBJECT,
      schema: AuditEventSchema,
      handle: async (message, envelope, manager) => {
        await insertRows(manager, [{ id: envelope.id, project: message.projectId }]);
        committed(1);
      },
    });
  }
  return subscribeIdempotentBatches(bus, dataSource, {
    durable,
    subject: SUBJECT,
    schema: AuditEventSchema,
    batch: { maxEvents: MAX_EVENTS, lingerMs: LINGER_MS },
    handleBatch: async (events, manager) => {
      // SQLite binds at most 32,766 values a statement.
      for (let start = 0; start < events.length; start += 5000) {
        await insertRows(manager, events.slice(start, start + 5000).map(({ message, envelope }) => ({ id: envelope.id, project: message.projectId })));
      }
      committed(events.length);
    },
  });
}

async function jetStream(batched: boolean, count: number): Promise<number> {
  const nats = testNatsConfig();
  const database = await createTestDatabase();
  const bus = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix, maxAgeMs: 3600_000 });
  const dataSource = await openConsumer(database.config);
  try {
    for (let start = 0; start < count; start += 1000) await bus.publishBatch(Array.from({ length: Math.min(1000, count - start) }, (_, i) => envelope(start + i)));
    let seen = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const started = process.hrtime.bigint();
    const subscription = await subscribe(bus, dataSource, batched, 'bench', (n) => {
      seen += n;
      if (seen >= count) done();
    });
    await finished;
    const perSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
    await subscription.stop();
    if ((await rowCount(dataSource)) !== count) throw new Error('rows lost or doubled');
    return perSecond;
  } finally {
    await bus.close();
    await dataSource.destroy();
    await database.drop();
    await nats.cleanup();
  }
}

async function inProcess(batched: boolean, count: number): Promise<number> {
  const database = testSqliteDatabase();
  const bus = new InProcessBus();
  const dataSource = await openConsumer(database.config);
  try {
    await subscribe(bus, dataSource, batched, 'bench', () => undefined);
    const batches = Array.from({ length: Math.ceil(count / PUBLISH) }, (_, b) => Array.from({ length: Math.min(PUBLISH, count - b * PUBLISH) }, (_, i) => envelope(b * PUBLISH + i)));
    const started = process.hrtime.bigint();
    for (const batch of batches) await bus.publishBatch(batch);
    const perSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
    if ((await rowCount(dataSource)) !== count) throw new Error('rows lost or doubled');
    return perSecond;
  } finally {
    await bus.close();
    await dataSource.destroy();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const [name, run] of [
    ['PostgreSQL + JetStream', jetStream],
    ['SQLite + in-process', inProcess],
  ] as const) {
    const single = await run(false, SINGLE);
    const batched = await run(true, BATCHED);
    rows.push(`${name.padEnd(24)} ${single.toFixed(0).padStart(12)} /s ${batched.toFixed(0).padStart(12)} /s ${(batched / single).toFixed(1).padStart(8)}x`);
  }
  console.log(`idempotent subscriptions: ${SINGLE} events one transaction each, ${BATCHED} in batches (maxEvents ${MAX_EVENTS}, lingerMs ${LINGER_MS}; in-process publishBatch of ${PUBLISH})`);
  console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model.trim()}), load ${loadavg()[0].toFixed(2)}, PostgreSQL and nats-server on loopback, one process`);
  console.log(`${'database + bus'.padEnd(24)} ${'one per event'.padStart(15)} ${'batched'.padStart(15)} ${'ratio'.padStart(9)}`);
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
