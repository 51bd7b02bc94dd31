import { create } from '@bufbuild/protobuf';
import { eventually } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema, WidgetSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { InProcessBus } from './in-process-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { subscribeIdempotent } from './subscribe-idempotent';
import { busThatDiesAfterPublishing, createWidget, recordSeenWidget, seenWidgets, WIDGET_CREATED } from './test-fixtures/widget-events';

describe('standalone delivery: outbox -> InProcessBus -> idempotent consumer', () => {
  let producer: DataSource;
  let consumer: DataSource;
  let bus: InProcessBus;
  const relays: OutboxRelay[] = [];
  let deliveries: string[];

  const startRelay = (relayBus: EventBus = bus) => {
    const relay = new OutboxRelay({ dataSource: producer, bus: relayBus, pollIntervalMs: 10, retryInitialMs: 10 });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const outboxSize = () => producer.getRepository(OutboxEntity).count();

  beforeEach(async () => {
    const sqlite = { type: 'sqlite', path: ':memory:' } as const;
    producer = await openDatabase({ service: 'producer', database: sqlite, ...widgetTables });
    consumer = await openDatabase({ service: 'consumer', database: sqlite, ...widgetTables });
    bus = new InProcessBus();
    deliveries = [];
    await bus.subscribe({ durable: 'audit', subject: WIDGET_CREATED, handler: async (envelope) => void deliveries.push(envelope.id) });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await bus.close();
    await producer.destroy();
    await consumer.destroy();
  });

  it('acts once on an event that a new relay publishes again after the first died before recording it', async () => {
    await subscribeIdempotent(bus, consumer, { durable: 'seen', subject: WIDGET_CREATED, schema: WidgetCreatedSchema, handle: recordSeenWidget });
    const { widgetId, eventId } = await createWidget(producer, new Outbox(), 'sprocket');
    const dying = busThatDiesAfterPublishing(bus);
    const first = startRelay(dying);
    await eventually(() => expect(dying.published).toContain(eventId));
    await first.stop();
    expect(await outboxSize()).toBe(1);

    startRelay();

    await eventually(async () => expect(await outboxSize()).toBe(0));
    expect(deliveries.filter((id) => id === eventId).length).toBeGreaterThanOrEqual(2);
    expect(await seenWidgets(consumer)).toEqual([widgetId]);
    expect(await consumer.getRepository(ProcessedEventEntity).findBy({ consumer: 'seen' })).toEqual([
      expect.objectContaining({ consumer: 'seen', eventId }),
    ]);
  });

  it('delivers again an event whose handler threw, and keeps only the successful attempt', async () => {
    let attempts = 0;
    await subscribeIdempotent(bus, consumer, {
      durable: 'seen',
      subject: WIDGET_CREATED,
      schema: WidgetCreatedSchema,
      handle: async (message, envelope, manager) => {
        attempts += 1;
        await recordSeenWidget(message, envelope, manager);
        if (attempts === 1) throw new Error('consumer failed after writing');
      },
    });
    const { widgetId } = await createWidget(producer, new Outbox(), 'sprocket');
    startRelay();

    await eventually(async () => expect(await outboxSize()).toBe(0));
    expect(attempts).toBe(2);
    expect(await seenWidgets(consumer)).toEqual([widgetId]);
  });

  it('delivers nothing from a transaction that rolled back', async () => {
    await subscribeIdempotent(bus, consumer, { durable: 'seen', subject: WIDGET_CREATED, schema: WidgetCreatedSchema, handle: recordSeenWidget });
    const outbox = new Outbox();
    await expect(createWidget(producer, outbox, 'doomed', { failAfterPublish: true })).rejects.toThrow();
    const { widgetId, eventId } = await createWidget(producer, outbox, 'kept');
    startRelay();

    await eventually(async () => expect(await seenWidgets(consumer)).toEqual([widgetId]));
    expect(deliveries).toEqual([eventId]);
  });

  it('skips events of another payload type on the same subject', async () => {
    let handled = 0;
    await subscribeIdempotent(bus, consumer, {
      durable: 'typed',
      subject: 'trellis.kittest.>',
      schema: WidgetCreatedSchema,
      handle: async () => void (handled += 1),
    });
    await producer.transaction((manager) =>
      new Outbox().publish(manager, {
        subject: 'trellis.kittest.v1.widget.renamed',
        schema: WidgetSchema,
        message: create(WidgetSchema, { id: 'w-1', name: 'renamed' }),
      }),
    );
    startRelay();

    await eventually(async () => expect(await outboxSize()).toBe(0));
    expect(handled).toBe(0);
  });
});
