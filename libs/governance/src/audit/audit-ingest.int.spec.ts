import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AuditRecorder,
  createLogger,
  InProcessBus,
  JetStreamBus,
  openDatabase,
  Outbox,
  OutboxEntity,
  OutboxRelay,
  type EventBus,
  type EventSubscription,
  type KitLogger,
} from '@trellis/platform';
import { AuditEventSchema, EventEnvelopeSchema, type AuditEvent } from '@trellis/proto';
import {
  createTestDatabase,
  eventually,
  startTcpProxy,
  testNatsConfig,
  testSqliteDatabase,
  type TcpProxy,
  type TestDatabase,
  type TestNatsConfig,
} from '@trellis/testing';
import { connect, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditChain } from './audit-chain';
import { AUDIT_DURABLE, subscribeAuditEvents } from './audit-ingest';
import { findRecords } from './audit-record.repository';
import { auditEvent, openAuditDatabase, T0_MS, UNSIGNED } from './test-fixtures/audit-fixtures';
import { verifyAuditChain } from './verify';

function envelopeOf(event: AuditEvent, fields: { id?: string; subject?: string; occurredAtMs?: number } = {}) {
  return create(EventEnvelopeSchema, {
    id: fields.id ?? randomUUID(),
    subject: fields.subject ?? 'trellis.tracking.v1.audit.recorded',
    payloadType: AuditEventSchema.typeName,
    payload: toBinary(AuditEventSchema, event),
    eventTime: timestampFromMs(fields.occurredAtMs ?? T0_MS),
  });
}

const storedEvents = (dataSource: DataSource) =>
  dataSource.transaction((manager) => findRecords(manager, { projects: 'all' }, { after: 0n, limit: 1000 })).then((records) => records.map((record) => record.fields));

describe('audit ingest through the in-process bus (standalone)', () => {
  let database: TestDatabase<{ type: 'sqlite'; path: string }>;
  let governance: DataSource;
  let bus: InProcessBus;

  beforeEach(async () => {
    database = testSqliteDatabase();
    governance = await openAuditDatabase(database.config);
    bus = new InProcessBus();
    await subscribeAuditEvents(bus, governance, new AuditChain());
  });

  afterEach(async () => {
    await bus.close();
    await governance.destroy();
    await database.drop();
  });

  it('stores an event published twice once', async () => {
    const event = auditEvent();
    const envelope = envelopeOf(event);
    await bus.publish(envelope);
    await bus.publish(envelope);
    await bus.publish(envelopeOf(event));

    expect((await storedEvents(governance)).map((fields) => fields.eventId)).toEqual([event.id]);
  });

  it('fills an event’s missing id, service and time from its envelope', async () => {
    const envelope = envelopeOf(create(AuditEventSchema, { actor: 'user-3', action: 'delete' }), { subject: 'trellis.registry.v1.audit.recorded', occurredAtMs: T0_MS + 5 });
    await bus.publish(envelope);

    expect(await storedEvents(governance)).toEqual([
      expect.objectContaining({ eventId: envelope.id, service: 'registry', actor: 'user-3', occurredAtUs: BigInt(T0_MS + 5) * 1000n }),
    ]);
  });

  it('records the service that published the event, whatever its payload claims', async () => {
    await bus.publish(envelopeOf(auditEvent({ service: 'governance' }), { subject: 'trellis.tracking.v1.audit.recorded' }));

    expect((await storedEvents(governance)).map((fields) => fields.service)).toEqual(['tracking']);
  });
});

describe('audit ingest through NATS JetStream (distributed)', () => {
  let databases: Awaited<ReturnType<typeof createTestDatabase>>[];
  let dataSources: DataSource[];
  let buses: EventBus[];
  let relays: OutboxRelay[];
  let subscriptions: EventSubscription[];
  let proxy: TcpProxy;
  let nats: TestNatsConfig;
  let inspector: NatsConnection;
  let tracking: DataSource;
  let governance: DataSource;

  const connectBus = async (servers = nats.servers) => {
    const bus = await JetStreamBus.connect({
      servers,
      stream: nats.stream,
      subjectPrefix: nats.subjectPrefix,
      redeliveryDelayMs: 50,
      publishTimeoutMs: 300,
      connection: { reconnectTimeWait: 50 },
    });
    buses.push(bus);
    return bus;
  };
  const consumerSettled = () =>
    eventually(async () => {
      const info = await (await inspector.jetstreamManager()).consumers.info(nats.stream, AUDIT_DURABLE);
      expect({ pending: info.num_pending, unacknowledged: info.num_ack_pending }).toEqual({ pending: 0, unacknowledged: 0 });
    });

  beforeEach(async () => {
    databases = [await createTestDatabase(), await createTestDatabase()];
    tracking = await openDatabase({ service: 'tracking', database: databases[0].config });
    governance = await openAuditDatabase(databases[1].config);
    dataSources = [tracking, governance];
    buses = [];
    relays = [];
    subscriptions = [];
    nats = testNatsConfig();
    proxy = await startTcpProxy(nats.servers);
    inspector = await connect({ servers: nats.servers });
  });

  afterEach(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await Promise.all(buses.map((bus) => bus.close()));
    await proxy.close();
    await Promise.all(dataSources.map((dataSource) => dataSource.destroy()));
    await Promise.all(databases.map((database) => database.drop()));
    await nats.cleanup();
    await inspector.close();
  });

  it('stores an event published twice once', async () => {
    const bus = await connectBus();
    subscriptions.push(await subscribeAuditEvents(bus, governance, new AuditChain()));
    const event = auditEvent();
    const envelope = envelopeOf(event);
    await bus.publish(envelope);
    await bus.publish(envelope);
    await bus.publish(envelopeOf(event));

    await consumerSettled();
    expect((await storedEvents(governance)).map((fields) => fields.eventId)).toEqual([event.id]);
  });

  it('loses no audit event while NATS is unreachable, and stores it once when NATS is back', async () => {
    const warnings: string[] = [];
    const logger: KitLogger = { debug: () => undefined, info: () => undefined, warn: (_, msg) => void warnings.push(msg ?? ''), error: () => undefined };
    const relay = new OutboxRelay({ dataSource: tracking, bus: await connectBus(proxy.url('nats')), pollIntervalMs: 20, retryInitialMs: 20, retryMaxMs: 200, logger });
    relays.push(relay);
    relay.start();
    subscriptions.push(await subscribeAuditEvents(await connectBus(proxy.url('nats')), governance, new AuditChain()));
    const recorder = new AuditRecorder('tracking', tracking, new Outbox({ relay }), createLogger({ level: 'silent' }));

    proxy.block();
    await recorder.succeeded({
      actor: 'user-1',
      action: 'create',
      method: 'trellis.tracking.v1.RunService/CreateRun',
      resource: 'runs/r-1',
      projectId: 'p1',
      requestId: 'req-offline',
      clientAddress: 'ipv4:10.0.0.7:5000',
    });
    await eventually(() => expect(warnings.filter((msg) => msg.includes('will retry')).length).toBeGreaterThanOrEqual(3));
    expect(await tracking.getRepository(OutboxEntity).count()).toBe(1);
    expect(await storedEvents(governance)).toEqual([]);

    proxy.unblock();

    await eventually(async () => expect(await storedEvents(governance)).toEqual([expect.objectContaining({ service: 'tracking', requestId: 'req-offline', resource: 'runs/r-1' })]));
    await eventually(async () => expect(await tracking.getRepository(OutboxEntity).count()).toBe(0));
    await consumerSettled();
    expect(await storedEvents(governance)).toHaveLength(1);
    expect((await verifyAuditChain(governance, UNSIGNED)).intact).toBe(true);
  });
});
