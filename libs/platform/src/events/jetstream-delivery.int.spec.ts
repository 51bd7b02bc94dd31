import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@trellis/proto';
import { createTestDatabase, eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import type { KitLogger } from '../persistence/logger';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus, EventSubscription } from './event-bus';
import { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { subscribeIdempotent } from './subscribe-idempotent';
import { busThatDiesAfterPublishing, createWidget, recordSeenWidget, seenWidgets, WIDGET_CREATED } from './test-fixtures/widget-events';

/** A logger that keeps what it is given, to assert on the lines an operator would read. */
function memoryLogger() {
  const lines: Array<{ level: string; msg?: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: object, msg?: string): void =>
      void lines.push({ level, msg, fields: fields as Record<string, unknown> });
  const logger: KitLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('distributed delivery: PostgreSQL outbox -> JetStream -> idempotent consumer', () => {
  let databases: TestDatabase<{ type: 'postgres'; url: string }>[];
  let dataSources: DataSource[];
  let streams: TestNatsConfig[];
  let buses: EventBus[];
  let relays: OutboxRelay[];
  let subscriptions: EventSubscription[];
  let proxies: TcpProxy[];
  let inspector: NatsConnection;
  let jsm: JetStreamManager;

  let nats: TestNatsConfig;
  let producer: DataSource;
  let consumer: DataSource;

  const openService = async (service: string) => {
    const database = await createTestDatabase();
    databases.push(database);
    const dataSource = await openDatabase({ service, database: database.config, ...widgetTables });
    dataSources.push(dataSource);
    return dataSource;
  };
  const connectBus = async (options: Partial<JetStreamBusOptions> = {}, config = nats) => {
    const bus = await JetStreamBus.connect({
      servers: config.servers,
      stream: config.stream,
      subjectPrefix: config.subjectPrefix,
      redeliveryDelayMs: 50,
      publishTimeoutMs: 1000,
      ...options,
    });
    buses.push(bus);
    return bus;
  };
  const startRelay = (bus: EventBus, logger?: KitLogger) => {
    const relay = new OutboxRelay({ dataSource: producer, bus, pollIntervalMs: 20, retryInitialMs: 20, retryMaxMs: 200, logger });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const subscribeSeen = async (bus: EventBus) => {
    const subscription = await subscribeIdempotent(bus, consumer, {
      durable: 'seen-widgets',
      subject: 'trellis.kittest.v1.widget.*',
      schema: WidgetCreatedSchema,
      handle: recordSeenWidget,
    });
    subscriptions.push(subscription);
    return subscription;
  };
  const outboxSize = () => producer.getRepository(OutboxEntity).count();
  /** How many WidgetCreated messages the stream holds (a probe of the duplicate window is not one). */
  const storedCopies = async (config = nats) => {
    const subject = `${config.subjectPrefix}.${WIDGET_CREATED}`;
    return (await jsm.streams.info(config.stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  };
  /**
   * Waits until the stream has forgotten the message ids of everything published so far: a probe
   * published now is taken as new again only once its id, the newest, has left the duplicate window.
   */
  const duplicateWindowPassed = async (config: TestNatsConfig) => {
    const js = inspector.jetstream();
    const probe = () => js.publish(`${config.subjectPrefix}.trellis.kittest.v1.probe.sent`, undefined, { msgID: 'duplicate-window-probe' });
    await probe();
    await eventually(async () => expect((await probe()).duplicate).toBe(false));
  };
  /** Waits until the durable has been delivered everything in the stream and acknowledged it. */
  const consumerSettled = (durable: string, config = nats) =>
    eventually(async () => {
      const info = await jsm.consumers.info(config.stream, durable);
      expect({ pending: info.num_pending, unacknowledged: info.num_ack_pending }).toEqual({ pending: 0, unacknowledged: 0 });
    });

  beforeEach(async () => {
    databases = [];
    dataSources = [];
    streams = [];
    buses = [];
    relays = [];
    subscriptions = [];
    proxies = [];
    nats = testNatsConfig();
    streams.push(nats);
    inspector = await connect({ servers: nats.servers });
    jsm = await inspector.jetstreamManager();
    [producer, consumer] = await Promise.all([openService('producer'), openService('consumer')]);
  });

  afterEach(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await Promise.all(buses.map((bus) => bus.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(dataSources.map((dataSource) => dataSource.destroy()));
    await Promise.all(databases.map((database) => database.drop()));
    await Promise.all(streams.map((stream) => stream.cleanup()));
    await inspector.close();
  });

  it('carries a committed event to a durable consumer that acts on it once', async () => {
    const relayBus = await connectBus();
    const received: string[] = [];
    const consumerBus = await connectBus();
    subscriptions.push(
      await consumerBus.subscribe({
        durable: 'raw',
        subject: WIDGET_CREATED,
        handler: async (envelope) => void received.push(fromBinary(WidgetCreatedSchema, envelope.payload).widget?.name ?? ''),
      }),
    );
    await subscribeSeen(consumerBus);
    const { widgetId } = await createWidget(producer, new Outbox(), 'sprocket');
    startRelay(relayBus);

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([widgetId]));
    // The two durables are delivered independently: one having acted says nothing of the other.
    await eventually(() => expect(received).toEqual(['sprocket']));
    expect((await jsm.streams.info(nats.stream)).config.subjects).toEqual([`${nats.subjectPrefix}.trellis.>`]);
  });

  it('lets several consumer processes start at once on a new stream and share one durable', async () => {
    const consumerBuses = await Promise.all([connectBus(), connectBus(), connectBus()]);
    await Promise.all(consumerBuses.map((bus) => subscribeSeen(bus)));
    const outbox = new Outbox();
    const created: Array<{ widgetId: string }> = [];
    for (let index = 0; index < 6; index++) created.push(await createWidget(producer, outbox, `widget-${index}`));
    startRelay(await connectBus());

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual(created.map((event) => event.widgetId).sort()));
    await consumerSettled('seen-widgets');
    expect(await seenWidgets(consumer)).toHaveLength(6);
  });

  it('acts once when the relay dies between publishing and recording, JetStream dropping the republished copy', async () => {
    const relayBus = await connectBus();
    await subscribeSeen(await connectBus());
    const { widgetId, eventId } = await createWidget(producer, new Outbox(), 'sprocket');
    const dying = busThatDiesAfterPublishing(relayBus);
    const first = startRelay(dying);
    await eventually(() => expect(dying.published).toContain(eventId));
    await first.stop();
    expect(await outboxSize()).toBe(1);

    startRelay(relayBus);

    await eventually(async () => expect(await outboxSize()).toBe(0));
    await consumerSettled('seen-widgets');
    expect(await storedCopies()).toBe(1);
    expect(await seenWidgets(consumer)).toEqual([widgetId]);
  });

  it('acts once when the copy comes after the duplicate window, the inbox dropping it', async () => {
    const shortWindow = testNatsConfig();
    streams.push(shortWindow);
    const relayBus = await connectBus({ duplicateWindowMs: 200 }, shortWindow);
    await subscribeSeen(await connectBus({}, shortWindow));
    const { widgetId, eventId } = await createWidget(producer, new Outbox(), 'sprocket');
    const dying = busThatDiesAfterPublishing(relayBus);
    const first = startRelay(dying);
    await eventually(() => expect(dying.published).toContain(eventId));
    await first.stop();
    await duplicateWindowPassed(shortWindow);

    startRelay(relayBus);

    await eventually(async () => expect(await outboxSize()).toBe(0));
    await eventually(async () => expect(await storedCopies(shortWindow)).toBeGreaterThanOrEqual(2));
    await consumerSettled('seen-widgets', shortWindow);
    expect(await seenWidgets(consumer)).toEqual([widgetId]);
  });

  it('delivers again an event whose handler threw, and keeps only the successful attempt', async () => {
    let attempts = 0;
    subscriptions.push(
      await subscribeIdempotent(await connectBus(), consumer, {
        durable: 'flaky',
        subject: WIDGET_CREATED,
        schema: WidgetCreatedSchema,
        handle: async (message, envelope, manager) => {
          attempts += 1;
          await recordSeenWidget(message, envelope, manager);
          if (attempts === 1) throw new Error('consumer failed after writing');
        },
      }),
    );
    const { widgetId } = await createWidget(producer, new Outbox(), 'sprocket');
    startRelay(await connectBus());

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([widgetId]));
    await consumerSettled('flaky');
    expect(attempts).toBe(2);
  });

  it('gives up on an event after maxDeliver deliveries, with an error log line', async () => {
    const { logger, lines } = memoryLogger();
    let attempts = 0;
    const consumerBus = await connectBus({ maxDeliver: 3, logger });
    subscriptions.push(
      await consumerBus.subscribe({
        durable: 'broken',
        subject: WIDGET_CREATED,
        handler: async () => {
          attempts += 1;
          throw new Error('always fails');
        },
      }),
    );
    const { eventId } = await createWidget(producer, new Outbox(), 'sprocket');
    startRelay(await connectBus());

    await eventually(() =>
      expect(lines.filter((line) => line.level === 'error')).toEqual([
        {
          level: 'error',
          msg: 'event handler failed on every delivery; giving up on this event',
          fields: expect.objectContaining({ durable: 'broken', eventId, deliveries: 3 }),
        },
      ]),
    );
    await consumerSettled('broken');
    expect(attempts).toBe(3);
  });

  it('keeps events while NATS is unreachable and delivers each once when it is back', async () => {
    const proxy = await startTcpProxy(nats.servers);
    proxies.push(proxy);
    const relayBus = await connectBus({ servers: proxy.url('nats'), publishTimeoutMs: 300, connection: { reconnectTimeWait: 50 } });
    await subscribeSeen(await connectBus());
    const { logger, lines } = memoryLogger();
    startRelay(relayBus, logger);

    proxy.block();
    const { widgetId } = await createWidget(producer, new Outbox(), 'sprocket');
    await eventually(() => expect(lines.filter((line) => line.msg === 'event bus did not take an outbox event; will retry').length).toBeGreaterThanOrEqual(2));
    expect(await outboxSize()).toBe(1);
    expect(await seenWidgets(consumer)).toEqual([]);

    proxy.unblock();

    await eventually(async () => expect(await outboxSize()).toBe(0));
    await consumerSettled('seen-widgets');
    expect(await seenWidgets(consumer)).toEqual([widgetId]);
    expect(await storedCopies()).toBe(1);
    expect(lines.some((line) => line.msg === 'outbox relay recovered')).toBe(true);
  });

  it('delivers nothing from a transaction that rolled back', async () => {
    await subscribeSeen(await connectBus());
    const outbox = new Outbox();
    await expect(createWidget(producer, outbox, 'doomed', { failAfterPublish: true })).rejects.toThrow();
    const { widgetId } = await createWidget(producer, outbox, 'kept');
    startRelay(await connectBus());

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([widgetId]));
    expect(await storedCopies()).toBe(1);
  });

  it('keeps a durable consumer’s place across restarts, so events published while it was down still arrive', async () => {
    const before = await subscribeSeen(await connectBus());
    const relay = startRelay(await connectBus());
    const outbox = new Outbox({ relay });
    const first = await createWidget(producer, outbox, 'first');
    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([first.widgetId]));
    await before.stop();

    const second = await createWidget(producer, outbox, 'second');
    await eventually(async () => expect(await storedCopies()).toBe(2));
    await subscribeSeen(await connectBus());

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([first.widgetId, second.widgetId].sort()));
  });
  it('hands a subscription with concurrency above 1 several events at once', async () => {
    const bus = await connectBus();
    for (let i = 0; i < 20; i++) {
      await bus.publish(
        create(EventEnvelopeSchema, {
          id: `concurrent-${i}`,
          subject: WIDGET_CREATED,
          payloadType: WidgetCreatedSchema.typeName,
          payload: toBinary(WidgetCreatedSchema, create(WidgetCreatedSchema, {})),
        }),
      );
    }
    let inFlight = 0;
    let most = 0;
    let openGate!: () => void;
    // Every handler waits until 8 are running together, so the limit is reached however slowly they start.
    const eightAtOnce = new Promise<void>((resolve) => (openGate = resolve));
    const handled = new Set<string>();
    const subscription = await bus.subscribe({
      durable: 'concurrent',
      subject: WIDGET_CREATED,
      concurrency: 8,
      handler: async (envelope) => {
        most = Math.max(most, ++inFlight);
        if (inFlight === 8) openGate();
        await eightAtOnce;
        inFlight -= 1;
        handled.add(envelope.id);
      },
    });
    subscriptions.push(subscription);
    try {
      await eventually(() => expect(most).toBe(8));
    } finally {
      // Also when the limit was never reached, so the held handlers end and the subscription can stop.
      openGate();
    }
    await eventually(() => expect(handled.size).toBe(20));
    expect(most).toBe(8);
  });
});
