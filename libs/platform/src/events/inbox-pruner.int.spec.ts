import { createTestDatabase, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../persistence/open-database';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import { InboxPruner } from './inbox-pruner';
import { JetStreamBus } from './jetstream-bus';

const HOUR = 3600_000;
const MINUTE = 60_000;
const NOW = Date.parse('2026-12-04T12:00:00Z');

describe('inbox pruning on PostgreSQL', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let replicas: DataSource[];

  beforeEach(async () => {
    database = await createTestDatabase();
    replicas = [];
    for (let replica = 0; replica < 2; replica++) {
      replicas.push(await openDatabase({ service: 'consumer', database: database.config, ...widgetTables }));
    }
  });

  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.destroy()));
    await database.drop();
  });

  it('lets two replicas prune one inbox at once: every old record goes, once, and the recent ones stay', async () => {
    const inbox = replicas[0].getRepository(ProcessedEventEntity);
    for (let chunk = 0; chunk < 5; chunk++) {
      await inbox.insert(Array.from({ length: 500 }, (_, index) => ({ consumer: 'billing', eventId: `old-${chunk}-${index}`, processedAt: new Date(NOW - 72 * HOUR) })));
    }
    await inbox.insert(Array.from({ length: 20 }, (_, index) => ({ consumer: 'billing', eventId: `recent-${index}`, processedAt: new Date(NOW - HOUR) })));
    const pruners = replicas.map((dataSource) => new InboxPruner({ dataSource, retentionMs: 48 * HOUR, batchSize: 100, now: () => NOW }));

    const deleted = await Promise.all(pruners.map((pruner) => pruner.prune()));

    expect(deleted[0] + deleted[1]).toBe(2500);
    const left = (await inbox.find()).map((row) => row.eventId).sort();
    expect(left).toEqual(Array.from({ length: 20 }, (_, index) => `recent-${index}`).sort());
  });
});

describe('the redelivery window of a JetStream bus', () => {
  let nats: TestNatsConfig;
  let buses: JetStreamBus[];

  const connect = async (options: { maxAgeMs?: number; ackWaitMs?: number; maxDeliver?: number }) => {
    const bus = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix, ...options });
    buses.push(bus);
    return bus;
  };

  beforeEach(() => {
    nats = testNatsConfig();
    buses = [];
  });

  afterEach(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await nats.cleanup();
  });

  it("is the stream's max age when that is the longest way an event can come again", async () => {
    const bus = await connect({ maxAgeMs: 24 * HOUR });
    expect(bus.redeliveryWindowMs).toBe(24 * HOUR);
  });

  it('is read from the stream as it exists, not from the options of a later process', async () => {
    await connect({ maxAgeMs: 90 * MINUTE });
    const later = await connect({ maxAgeMs: 24 * HOUR });
    expect(later.redeliveryWindowMs).toBe(90 * MINUTE);
  });

  it('covers every delivery left unacknowledged when that outlasts the max age', async () => {
    const bus = await connect({ maxAgeMs: 5 * MINUTE, ackWaitMs: 30_000, maxDeliver: 10 });
    // 10 deliveries, each unacknowledged for 30 s and then delayed up to a minute.
    expect(bus.redeliveryWindowMs).toBe(15 * MINUTE);
  });

  it('is endless for a stream that keeps events for ever', async () => {
    const bus = await connect({ maxAgeMs: 0 });
    expect(bus.redeliveryWindowMs).toBe(Infinity);
  });
});
