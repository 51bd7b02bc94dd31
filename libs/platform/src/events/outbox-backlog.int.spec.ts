import { createTestDatabase, eventually, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { Metrics } from '../ops/metrics';
import type { DatabaseConfig } from '../persistence/database-config';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { Outbox } from './outbox';
import { OUTBOX_COUNT_LIMIT, readOutboxBacklog } from './outbox-backlog';
import { OutboxRelay } from './outbox-relay';
import { outboxTablePath } from './outbox-store';
import { createWidget } from './test-fixtures/widget-events';

/** A bus that refuses every event until `accept()`: the events wait in the outbox meanwhile. */
function gatedBus() {
  let accepting = false;
  const bus: EventBus = {
    publish: async () => {
      if (!accepting) throw new Error('no connection to the broker');
    },
    subscribe: () => Promise.reject(new Error('not used')),
    watch: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  };
  return { bus, accept: () => (accepting = true) };
}

/** The series of one gauge on `metrics`, by its `service` label, as a scrape would read them. */
async function byService(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map(({ labels, value }) => [String(labels['service']), value]));
}

const PENDING = 'trellis_outbox_pending_events';
const OLDEST = 'trellis_outbox_oldest_pending_seconds';

describe.each([
  ['PostgreSQL', () => createTestDatabase()],
  ['SQLite', async () => testSqliteDatabase()],
])('the outbox backlog on %s', (_engine, createDatabase: () => Promise<TestDatabase<DatabaseConfig>>) => {
  let database: TestDatabase<DatabaseConfig>;
  let dataSource: DataSource;
  const relays: OutboxRelay[] = [];

  const startRelay = (bus: EventBus, metrics: Metrics, service: string, on = dataSource) => {
    const relay = new OutboxRelay({ dataSource: on, bus, pollIntervalMs: 10, retryInitialMs: 10, retryMaxMs: 20, inboxPruning: false, backlogMetrics: { metrics, service } });
    relays.push(relay);
    relay.start();
    return relay;
  };

  beforeEach(async () => {
    database = await createDatabase();
    dataSource = await openDatabase({ service: 'producer', database: database.config, ...widgetTables });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await dataSource.destroy();
    await database.drop();
  });

  it('counts the events waiting and dates the first of them', async () => {
    const outbox = new Outbox();
    for (const name of ['a', 'b', 'c']) await createWidget(dataSource, outbox, name);
    const [first] = await dataSource.getRepository(OutboxEntity).find({ order: { seq: 'ASC' }, take: 1 });

    expect(await readOutboxBacklog(dataSource, first.occurredAt.getTime() + 90_500)).toEqual({ events: 3, oldestSeconds: 90.5 });
  });

  it('reads an empty outbox as no events and no age', async () => {
    expect(await readOutboxBacklog(dataSource)).toEqual({ events: 0, oldestSeconds: 0 });
  });

  it("reports the backlog while the relay cannot deliver it, zero once it has, and nothing after the relay stopped", async () => {
    const metrics = new Metrics();
    const { bus, accept } = gatedBus();
    const relay = startRelay(bus, metrics, 'producer');
    const outbox = new Outbox({ relay });
    for (const name of ['a', 'b']) await createWidget(dataSource, outbox, name);

    await eventually(async () => expect(await byService(metrics, PENDING)).toEqual({ producer: 2 }));
    expect((await byService(metrics, OLDEST))['producer']).toBeGreaterThanOrEqual(0);

    accept();
    await eventually(async () => expect(await byService(metrics, PENDING)).toEqual({ producer: 0 }));
    expect(await byService(metrics, OLDEST)).toEqual({ producer: 0 });

    await relay.stop();
    expect(await byService(metrics, PENDING)).toEqual({});
    expect(await byService(metrics, OLDEST)).toEqual({});
  });

  it('reports each service of a process under its own label', async () => {
    const metrics = new Metrics();
    const second = await createDatabase();
    const other = await openDatabase({ service: 'consumer', database: second.config, ...widgetTables });
    try {
      await createWidget(dataSource, new Outbox(), 'waits');
      const otherRelay = startRelay(gatedBus().bus, metrics, 'consumer', other);
      startRelay(gatedBus().bus, metrics, 'producer');

      await eventually(async () => expect(await byService(metrics, PENDING)).toEqual({ producer: 1, consumer: 0 }));
      await otherRelay.stop();
      expect(await byService(metrics, PENDING)).toEqual({ producer: 1 });
    } finally {
      await Promise.all(relays.splice(0).map((relay) => relay.stop()));
      await other.destroy();
      await second.drop();
    }
  });
});

describe('the outbox backlog on PostgreSQL, at its bounds', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ service: 'producer', database: database.config, ...widgetTables });
  });

  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  });

  it(`counts at most ${OUTBOX_COUNT_LIMIT} events, however many wait`, async () => {
    await dataSource.query(
      `INSERT INTO ${outboxTablePath(dataSource)} (id, subject, payload_type, payload, occurred_at)
       SELECT gen_random_uuid(), 'trellis.kittest.v1.widget.created', 'trellis.kittest.v1.WidgetCreated', '\\x'::bytea, now() FROM generate_series(1, $1)`,
      [OUTBOX_COUNT_LIMIT + 5],
    );

    expect((await readOutboxBacklog(dataSource)).events).toBe(OUTBOX_COUNT_LIMIT);
  });

  it('leaves out the series of a database that cannot be read, and the scrape still answers', async () => {
    const metrics = new Metrics();
    const relay = new OutboxRelay({ dataSource, bus: gatedBus().bus, pollIntervalMs: 10, retryInitialMs: 10, retryMaxMs: 20, inboxPruning: false, backlogMetrics: { metrics, service: 'producer' } });
    relay.start();
    try {
      await createWidget(dataSource, new Outbox(), 'waits');
      await eventually(async () => expect(await byService(metrics, PENDING)).toEqual({ producer: 1 }));

      await database.drop();

      await eventually(async () => expect(await byService(metrics, PENDING)).toEqual({}));
      expect(await metrics.registry.metrics()).toContain('# TYPE trellis_outbox_pending_events gauge');
    } finally {
      await relay.stop();
    }
  });
});
