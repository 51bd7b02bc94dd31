import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema } from '@trellis/proto';
import { eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestNatsConfig } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { Metrics } from '../ops/metrics';
import { reportConsumerBacklog } from './consumer-backlog';
import type { EventSubscription } from './event-bus';
import { InProcessBus } from './in-process-bus';
import { JetStreamBus } from './jetstream-bus';
import { WIDGET_CREATED } from './test-fixtures/widget-events';

const GAUGE = 'trellis_event_consumer_pending';

/** The gauge's series as a scrape reads them: `consumer subject` -> value. */
async function series(metrics: Metrics): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(GAUGE);
  if (!metric) throw new Error(`${GAUGE} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map(({ labels, value }) => [`${labels['consumer']} ${labels['subject']}`, value]));
}

function widgetEnvelope(name: string) {
  return create(EventEnvelopeSchema, {
    id: randomUUID(),
    subject: WIDGET_CREATED,
    payloadType: WidgetCreatedSchema.typeName,
    payload: toBinary(WidgetCreatedSchema, create(WidgetCreatedSchema, { widget: { name } })),
    eventTime: timestampNow(),
  });
}

/** A handler that takes each event only once `open()` was called. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { handler: () => opened, open };
}

describe('the backlog of durable consumers on JetStream', () => {
  let nats: TestNatsConfig;
  let bus: JetStreamBus;
  let metrics: Metrics;
  const subscriptions: EventSubscription[] = [];
  const proxies: TcpProxy[] = [];

  const connect = (servers = nats.servers) => JetStreamBus.connect({ servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix, connection: { reconnectTimeWait: 50 } });

  beforeEach(async () => {
    nats = testNatsConfig();
    bus = await connect();
    metrics = new Metrics();
    reportConsumerBacklog(metrics, bus);
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
    await bus.close();
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await nats.cleanup();
  });

  it("counts a consumer's events not yet delivered and not yet acknowledged, until its handler takes them", async () => {
    const { handler, open } = gate();
    subscriptions.push(await bus.subscribe({ durable: 'backlog-widgets', subject: 'trellis.kittest.v1.widget.*', handler }));
    for (const name of ['a', 'b', 'c', 'd', 'e']) await bus.publish(widgetEnvelope(name));

    await eventually(async () => expect(await series(metrics)).toEqual({ 'backlog-widgets trellis.kittest.v1.widget.*': 5 }));
    expect(await bus.consumerBacklog()).toEqual([{ consumer: 'backlog-widgets', subject: 'trellis.kittest.v1.widget.*', pending: 5 }]);

    open();
    await eventually(async () => expect(await series(metrics)).toEqual({ 'backlog-widgets trellis.kittest.v1.widget.*': 0 }));
  });

  it('reports a durable once however many of its subscriptions run here, and forgets it once they stopped', async () => {
    const { handler, open } = gate();
    for (let replica = 0; replica < 2; replica++) subscriptions.push(await bus.subscribe({ durable: 'shared-widgets', subject: WIDGET_CREATED, handler }));
    subscriptions.push(await bus.subscribe({ durable: 'other-widgets', subject: WIDGET_CREATED, handler: async () => undefined }));
    await bus.publish(widgetEnvelope('a'));

    await eventually(async () => expect(await series(metrics)).toEqual({ [`shared-widgets ${WIDGET_CREATED}`]: 1, [`other-widgets ${WIDGET_CREATED}`]: 0 }));

    open();
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
    await eventually(async () => expect(await series(metrics)).toEqual({}));
  });

  it('leaves the series out while NATS is out of reach, the scrape still answering, and reports again once it is back', async () => {
    const proxy = await startTcpProxy(nats.servers);
    proxies.push(proxy);
    const cut = await connect(proxy.url('nats'));
    const cutMetrics = new Metrics();
    reportConsumerBacklog(cutMetrics, cut);
    try {
      subscriptions.push(await cut.subscribe({ durable: 'cut-widgets', subject: WIDGET_CREATED, handler: async () => undefined }));
      await eventually(async () => expect(await series(cutMetrics)).toEqual({ [`cut-widgets ${WIDGET_CREATED}`]: 0 }));

      proxy.block();
      await eventually(async () => expect(await series(cutMetrics)).toEqual({}));
      expect(await cutMetrics.registry.metrics()).toContain(`# TYPE ${GAUGE} gauge`);

      proxy.unblock();
      await eventually(async () => expect(await series(cutMetrics)).toEqual({ [`cut-widgets ${WIDGET_CREATED}`]: 0 }));
    } finally {
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
      await cut.close();
    }
  });
});

describe('the backlog of consumers in process (standalone)', () => {
  it('is a gauge without series: events that wait for a subscriber wait in the outbox', async () => {
    const bus = new InProcessBus();
    const metrics = new Metrics();
    reportConsumerBacklog(metrics, bus);
    await bus.subscribe({ durable: 'in-process-widgets', subject: WIDGET_CREATED, handler: async () => undefined });

    expect(await series(metrics)).toEqual({});
    expect(await metrics.registry.metrics()).toContain(`# TYPE ${GAUGE} gauge`);
    await bus.close();
  });
});
