import { create, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
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
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { DataSource, EntityManager } from 'typeorm';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus, EventSubscription } from './event-bus';
import { InProcessBus } from './in-process-bus';
import { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus';
import { subscribeIdempotentBatches, type ReceivedEvent } from './subscribe-idempotent';
import { recordSeenWidget, seenWidgets, WIDGET_CREATED } from './test-fixtures/widget-events';

type Received = ReadonlyArray<ReceivedEvent<typeof WidgetCreatedSchema>>;

/** A WidgetCreated for widget `w-<nn>` under event id `e-<nn>`: ids sort as they were published. */
function widgetEvent(index: number): EventEnvelope {
  const number = String(index).padStart(2, '0');
  return create(EventEnvelopeSchema, {
    id: `e-${number}`,
    subject: WIDGET_CREATED,
    payloadType: WidgetCreatedSchema.typeName,
    payload: toBinary(WidgetCreatedSchema, create(WidgetCreatedSchema, { widget: { id: `w-${number}` } })),
  });
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);
const widgetIds = (indexes: number[]) => indexes.map((index) => `w-${String(index).padStart(2, '0')}`);

/** A batch handler that records each event it acts on, and keeps the event ids of each call. */
function recordingHandler(fail: (call: number) => boolean = () => false) {
  const calls: string[][] = [];
  return {
    calls,
    handleBatch: async (events: Received, manager: EntityManager) => {
      calls.push(events.map((event) => event.envelope.id));
      for (const { message, envelope } of events) await recordSeenWidget(message, envelope, manager);
      if (fail(calls.length)) throw new Error(`batch ${calls.length} failed after writing`);
    },
  };
}

describe('batched idempotent subscriptions on PostgreSQL and NATS JetStream', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let consumer: DataSource;
  let nats: TestNatsConfig;
  let inspector: NatsConnection;
  let jsm: JetStreamManager;
  let buses: EventBus[];
  let subscriptions: EventSubscription[];
  let proxies: TcpProxy[];

  const connectBus = async (options: Partial<JetStreamBusOptions> = {}) => {
    // A short ack wait: an event a stopped or cut-off process held comes again within the test.
    const bus = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix, redeliveryDelayMs: 50, ackWaitMs: 1000, ...options });
    buses.push(bus);
    return bus;
  };
  const subscribe = async (bus: EventBus, handler: ReturnType<typeof recordingHandler>, lingerMs = 200) => {
    const subscription = await subscribeIdempotentBatches(bus, consumer, {
      durable: 'seen-batches',
      subject: WIDGET_CREATED,
      schema: WidgetCreatedSchema,
      batch: { maxEvents: 10, lingerMs },
      handleBatch: handler.handleBatch,
    });
    subscriptions.push(subscription);
    return subscription;
  };
  /** Stores each envelope in the stream as it is, without a message id: a copy JetStream cannot drop. */
  const store = async (envelopes: EventEnvelope[]) => {
    const js = inspector.jetstream();
    for (const envelope of envelopes) await js.publish(`${nats.subjectPrefix}.${envelope.subject}`, toBinary(EventEnvelopeSchema, envelope));
  };
  const settled = () =>
    eventually(async () => {
      const info = await jsm.consumers.info(nats.stream, 'seen-batches');
      expect({ pending: info.num_pending, unacknowledged: info.num_ack_pending }).toEqual({ pending: 0, unacknowledged: 0 });
    });

  beforeEach(async () => {
    buses = [];
    subscriptions = [];
    proxies = [];
    nats = testNatsConfig();
    inspector = await connect({ servers: nats.servers });
    jsm = await inspector.jetstreamManager();
    database = await createTestDatabase();
    consumer = await openDatabase({ service: 'consumer', database: database.config, ...widgetTables });
    // The stream exists before anything is stored in it.
    await connectBus();
  });

  afterEach(async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await Promise.all(buses.map((bus) => bus.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await consumer.destroy();
    await database.drop();
    await nats.cleanup();
    await inspector.close();
  });

  it('hands the events over in batches of at most maxEvents, in stream order, each event id acting once', async () => {
    // e-03 twice in a row (one batch) and e-07 again at the end (a later batch, after e-07 committed).
    await store([...range(4).map(widgetEvent), widgetEvent(3), ...range(21).slice(4).map(widgetEvent), widgetEvent(7)]);
    const handler = recordingHandler();
    await subscribe(await connectBus(), handler);

    await settled();
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(21)));
    expect(handler.calls.flat().sort()).toEqual(range(21).map((index) => widgetEvent(index).id));
    expect(handler.calls.every((ids) => ids.length <= 10)).toBe(true);
    expect(handler.calls.some((ids) => ids.length > 1)).toBe(true);
    for (const ids of handler.calls) expect(ids).toEqual([...ids].sort());
  });

  it('fills a batch larger than the 1,000 unacknowledged events a JetStream consumer allows by default', async () => {
    const js = inspector.jetstream();
    const events = Array.from({ length: 1500 }, (_, index) => toBinary(EventEnvelopeSchema, { ...widgetEvent(index % 100), id: `big-${index}` }));
    await Promise.all(events.map((bytes) => js.publish(`${nats.subjectPrefix}.${WIDGET_CREATED}`, bytes)));
    const sizes: number[] = [];
    subscriptions.push(
      await subscribeIdempotentBatches(await connectBus(), consumer, {
        durable: 'big-batches',
        subject: WIDGET_CREATED,
        schema: WidgetCreatedSchema,
        // A linger longer than the wait below: only a full batch goes in time.
        batch: { maxEvents: 1500, lingerMs: 10_000 },
        handleBatch: async (received) => void sizes.push(received.length),
      }),
    );

    await eventually(() => expect(sizes).toEqual([1500]), { timeoutMs: 8000 });
  });

  it('rolls back a failing batch and delivers all of its events again', async () => {
    await store(range(12).map(widgetEvent));
    const handler = recordingHandler((call) => call === 1);
    await subscribe(await connectBus(), handler);

    await settled();
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(12)));
    const [failed, ...after] = handler.calls;
    expect(after.flat()).toEqual(expect.arrayContaining(failed));
  });

  it('acts once on a batch whose commit was not acknowledged, when another process gets it again', async () => {
    const proxy = await startTcpProxy(nats.servers);
    proxies.push(proxy);
    await store(range(5).map(widgetEvent));
    const dying = recordingHandler();
    const cutOff = {
      calls: dying.calls,
      // NATS becomes unreachable before the commit, so the acks that follow it never arrive.
      handleBatch: async (events: Received, manager: EntityManager) => {
        await dying.handleBatch(events, manager);
        proxy.block();
      },
    };
    await subscribe(await connectBus({ servers: proxy.url('nats'), connection: { reconnectTimeWait: 50 } }), cutOff);
    await eventually(async () => expect(await seenWidgets(consumer)).toEqual(widgetIds(range(5))));
    await subscriptions.splice(0)[0].stop();

    const survivor = recordingHandler();
    await subscribe(await connectBus(), survivor);
    await store(range(7).slice(5).map(widgetEvent));

    await eventually(() => expect(survivor.calls.flat()).toEqual(expect.arrayContaining([widgetEvent(5).id, widgetEvent(6).id])));
    await settled();
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(7)));
  });

  it('keeps its place across a stop in the middle of a batch, acting on every event once', async () => {
    await store(range(30).map(widgetEvent));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = recordingHandler();
    const holding = {
      calls: first.calls,
      handleBatch: async (events: Received, manager: EntityManager) => {
        await first.handleBatch(events, manager);
        if (first.calls.length === 1) await held;
      },
    };
    const subscription = await subscribe(await connectBus(), holding);
    await eventually(() => expect(first.calls).toHaveLength(1));
    const stopped = subscription.stop();
    release();
    await stopped;
    subscriptions.splice(0);

    await subscribe(await connectBus(), recordingHandler());

    await settled();
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(30)));
  });
});

describe('batched idempotent subscriptions on SQLite and the in-process bus', () => {
  let database: TestDatabase<{ type: 'sqlite'; path: string }>;
  let consumer: DataSource;
  let bus: InProcessBus;

  const subscribe = (on: InProcessBus, handler: ReturnType<typeof recordingHandler>) =>
    subscribeIdempotentBatches(on, consumer, {
      durable: 'seen-batches',
      subject: WIDGET_CREATED,
      schema: WidgetCreatedSchema,
      batch: { maxEvents: 10, lingerMs: 10_000 },
      handleBatch: handler.handleBatch,
    });

  beforeEach(async () => {
    database = testSqliteDatabase();
    consumer = await openDatabase({ service: 'consumer', database: database.config, ...widgetTables });
    bus = new InProcessBus();
  });

  afterEach(async () => {
    await bus.close();
    await consumer.destroy();
    await database.drop();
  });

  it('hands a publishBatch over as batches of maxEvents in order, and a publish as a batch of one without lingering', async () => {
    const handler = recordingHandler();
    await subscribe(bus, handler);

    await bus.publishBatch(range(25).map(widgetEvent));
    await bus.publish(widgetEvent(25));

    expect(handler.calls.map((ids) => ids.length)).toEqual([10, 10, 5, 1]);
    expect(handler.calls.flat()).toEqual(range(26).map((index) => widgetEvent(index).id));
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(26)));
  });

  it('acts once on an event id published twice, in one batch or in a later one', async () => {
    const handler = recordingHandler();
    await subscribe(bus, handler);

    await bus.publishBatch([widgetEvent(0), widgetEvent(1), widgetEvent(1), widgetEvent(2)]);
    await bus.publishBatch([widgetEvent(2), widgetEvent(3)]);

    expect(handler.calls).toEqual([['e-00', 'e-01', 'e-02'], ['e-03']]);
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(4)));
  });

  it('rolls back a failing batch, rejects the publish, and acts once when the batch is published again', async () => {
    const handler = recordingHandler((call) => call === 2);
    await subscribe(bus, handler);
    const events = range(25).map(widgetEvent);

    await expect(bus.publishBatch(events)).rejects.toThrow('1 subscriber(s) failed to handle a batch of 25 events');
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(10)));

    await bus.publishBatch(events);

    expect(handler.calls.map((ids) => ids.length)).toEqual([10, 10, 10, 5]);
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(25)));
  });

  it('after a restart in the middle of a batch, acts only on the events the inbox has not recorded', async () => {
    const dying = recordingHandler((call) => call === 2);
    const before = await subscribe(bus, dying);
    const events = range(25).map(widgetEvent);
    await expect(bus.publishBatch(events)).rejects.toThrow();
    await before.stop();
    await bus.close();

    // A new process: a new bus that remembers nothing; the relay publishes the batch again.
    bus = new InProcessBus();
    const after = recordingHandler();
    await subscribe(bus, after);
    await bus.publishBatch(events);

    expect(after.calls.flat()).toEqual(range(25).slice(10).map((index) => widgetEvent(index).id));
    expect(await seenWidgets(consumer)).toEqual(widgetIds(range(25)));
  });
});
