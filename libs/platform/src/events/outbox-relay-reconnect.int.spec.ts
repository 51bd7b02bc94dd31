import { eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestNatsConfig } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../persistence/open-database';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventSubscription } from './event-bus';
import { JetStreamBus } from './jetstream-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { createWidget, WIDGET_CREATED } from './test-fixtures/widget-events';

describe('OutboxRelay across a lost NATS connection', () => {
  let nats: TestNatsConfig;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let relayBus: JetStreamBus;
  let consumerBus: JetStreamBus;
  let subscription: EventSubscription;
  let relay: OutboxRelay;
  let received: string[];

  beforeEach(async () => {
    nats = testNatsConfig();
    proxy = await startTcpProxy(nats.servers);
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
    const stream = { stream: nats.stream, subjectPrefix: nats.subjectPrefix };
    relayBus = await JetStreamBus.connect({ servers: proxy.url('nats'), ...stream, publishTimeoutMs: 300, connection: { reconnectTimeWait: 50 } });
    consumerBus = await JetStreamBus.connect({ servers: nats.servers, ...stream });
    received = [];
    subscription = await consumerBus.subscribe({ durable: 'reconnect-spec', subject: WIDGET_CREATED, handler: async (envelope) => void received.push(envelope.id) });
  });

  afterEach(async () => {
    await relay?.stop();
    await subscription?.stop();
    await Promise.all([relayBus?.close(), consumerBus?.close()]);
    await proxy?.close();
    await dataSource?.destroy();
    await nats?.cleanup();
  });

  it('publishes the waiting events once NATS is back, without waiting out its back-off', async () => {
    // A minute's wait after the first refusal (the outage of the issue left a 25.6 s one): only the
    // reconnection can end it before eventually's 10 s deadline.
    relay = new OutboxRelay({ dataSource, bus: relayBus, retryInitialMs: 60_000 });
    relay.start();
    proxy.block();
    await eventually(() => expect(relayBus.isConnected()).toBe(false));
    const { eventId } = await createWidget(dataSource, new Outbox({ relay }), 'sprocket');
    await eventually(() => expect(relay.failing).toMatchObject({ since: expect.any(Date) }));

    proxy.unblock();

    await eventually(() => expect(received).toEqual([eventId]));
    expect(relayBus.isConnected()).toBe(true);
    // The consumer may hear of the event before the relay has recorded it as published.
    await eventually(() => expect(relay.failing).toBeUndefined());
  });
});
