import { create, fromBinary } from '@bufbuild/protobuf';
import { connect } from 'nats';
import { eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestNatsConfig } from '@trellis/testing';
import { WidgetSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { Metrics } from '../ops/metrics';
import type { KitLogger } from '../persistence/logger';
import { BatchPublisher, type BatchPublisherOptions } from './batch-publisher';
import type { EventSubscription } from './event-bus';
import { JetStreamBus } from './jetstream-bus';
import { widgetEvents, WIDGET_DELETED } from './test-fixtures/widget-events';

type WidgetEvents = typeof widgetEvents.table;

const widget = (name: string) => create(WidgetSchema, { id: name, name });
const namesFrom = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe('BatchPublisher on NATS JetStream', () => {
  let nats: TestNatsConfig;
  let proxy: TcpProxy;
  let publisherBus: JetStreamBus;
  let consumerBus: JetStreamBus;
  let subscription: EventSubscription;
  let metrics: Metrics;
  let received: string[];
  let publishers: Array<BatchPublisher<WidgetEvents>>;
  let warnings: string[];
  const logger: KitLogger = { debug: () => undefined, info: () => undefined, warn: (_fields, msg) => void warnings.push(msg ?? ''), error: () => undefined };

  /** How many messages the test's stream holds: each event once, however often it was sent. */
  const storedCount = async () => {
    const connection = await connect({ servers: nats.servers });
    try {
      return (await (await connection.jetstreamManager()).streams.info(nats.stream)).state.messages;
    } finally {
      await connection.close();
    }
  };
  const publisher = (options: Partial<BatchPublisherOptions<WidgetEvents>> = {}) => {
    const made = new BatchPublisher({ bus: publisherBus, events: widgetEvents, metrics, logger, retryInitialMs: 20, retryMaxMs: 200, ...options });
    publishers.push(made);
    return made;
  };

  beforeEach(async () => {
    nats = testNatsConfig();
    proxy = await startTcpProxy(nats.servers);
    const stream = { stream: nats.stream, subjectPrefix: nats.subjectPrefix };
    publisherBus = await JetStreamBus.connect({ servers: proxy.url('nats'), ...stream, publishTimeoutMs: 300, connection: { reconnectTimeWait: 50 } });
    consumerBus = await JetStreamBus.connect({ servers: nats.servers, ...stream });
    metrics = new Metrics();
    received = [];
    publishers = [];
    warnings = [];
    subscription = await consumerBus.subscribe({
      durable: 'widget-log',
      subject: WIDGET_DELETED,
      handler: async (envelope) => void received.push(fromBinary(WidgetSchema, envelope.payload).name),
    });
  });

  afterEach(async () => {
    proxy?.unblock();
    await Promise.all(publishers.map((each) => each.close()));
    await subscription?.stop();
    await Promise.all([publisherBus?.close(), consumerBus?.close()]);
    await proxy?.close();
    await nats?.cleanup();
  });

  it('stores every event once and a durable consumer receives them in publish order', async () => {
    const events = publisher({ batchSize: 256 });
    const expected = namesFrom('widget', 3000);

    for (const name of expected) await events.publish(WIDGET_DELETED, widget(name));
    await events.flush();

    await eventually(() => expect(received).toHaveLength(3000));
    expect(received).toEqual(expected);
    expect(await storedCount()).toBe(3000);
  });

  it('holds publishers back while NATS is unreachable, and delivers every event once when it is back', async () => {
    proxy.block();
    await eventually(() => expect(publisherBus.isConnected()).toBe(false));
    const events = publisher({ bufferSize: 10, batchSize: 4 });
    const first = namesFrom('early', 10);
    for (const name of first) expect(await events.publish(WIDGET_DELETED, widget(name))).toBe(true);
    let eleventh: boolean | undefined;
    const waiting = events.publish(WIDGET_DELETED, widget('late')).then((buffered) => (eleventh = buffered));
    // Two refusals in a row: the bus was tried again, and still nothing left the full buffer.
    await eventually(() => expect(warnings.filter((line) => line.startsWith('event bus refused a batch')).length).toBeGreaterThanOrEqual(2));
    expect(eleventh).toBeUndefined();

    proxy.unblock();

    await waiting;
    expect(eleventh).toBe(true);
    await events.flush();
    await eventually(() => expect([...received].sort()).toEqual([...first, 'late'].sort()));
    expect(await storedCount()).toBe(11);
    expect(await droppedCount(metrics)).toBe(0);
  });

  it('drops and counts what does not fit in lossy mode while NATS is unreachable', async () => {
    proxy.block();
    await eventually(() => expect(publisherBus.isConnected()).toBe(false));
    const events = publisher({ bufferSize: 10, batchSize: 4, whenFull: 'drop' });

    let buffered = 0;
    for (const name of namesFrom('w', 15)) if (await events.publish(WIDGET_DELETED, widget(name))) buffered += 1;

    expect(buffered).toBe(10);
    expect(await droppedCount(metrics)).toBe(5);
    proxy.unblock();
    await events.flush();
    await eventually(() => expect([...received].sort()).toEqual(namesFrom('w', 10).sort()));
  });

  async function droppedCount(from: Metrics): Promise<number> {
    const { values } = await from.eventsDropped.get();
    return values.find((value) => value.labels.subject === WIDGET_DELETED)?.value ?? 0;
  }
});
