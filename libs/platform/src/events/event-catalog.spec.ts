import { create } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema, WidgetSchema, type GetWidgetRequest, type Widget, type WidgetCreated } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import { subscribeToEvent, watchEvent } from './catalog-subscriptions';
import type { EventSubscription } from './event-bus';
import { defineEvents } from './event-catalog';
import { InProcessBus } from './in-process-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { widgetEvents, WIDGET_CREATED, WIDGET_DELETED } from './test-fixtures/widget-events';

describe('event catalogs', () => {
  describe('defineEvents', () => {
    it('refuses a subject with a wildcard, outside trellis.<service>.v<n>, or without a message schema', () => {
      expect(() => defineEvents({ 'trellis.kittest.v1.widget.*': WidgetSchema })).toThrow('without wildcards');
      expect(() => defineEvents({ 'kittest.v1.widget.created': WidgetSchema })).toThrow('trellis.<service>.v<n>.<entity>.<verb>');
      expect(() => defineEvents({ 'trellis.kittest.widget.created': WidgetSchema })).toThrow('trellis.<service>.v<n>.<entity>.<verb>');
      expect(() => defineEvents({ 'trellis.kittest.v1.created': WidgetSchema })).toThrow('trellis.<service>.v<n>.<entity>.<verb>');
      expect(() => defineEvents({ 'trellis.kittest.v1.widget.created': { kind: 'enum' } as never })).toThrow('not a generated message schema');
    });

    it('lists its subjects and gives each one its schema', () => {
      expect(widgetEvents.subjects).toEqual([WIDGET_CREATED, WIDGET_DELETED]);
      expect(widgetEvents.schemaOf(WIDGET_DELETED)).toBe(WidgetSchema);
      expect(() => widgetEvents.schemaOf('trellis.kittest.v1.widget.renamed' as never)).toThrow(
        `"trellis.kittest.v1.widget.renamed" is not an event subject of this catalog (${WIDGET_CREATED}, ${WIDGET_DELETED})`,
      );
    });
  });

  describe('typed publishing and subscribing, on SQLite and the in-process bus', () => {
    let dataSource: DataSource;
    let bus: InProcessBus;
    let relay: OutboxRelay;
    let outbox: Outbox;
    const subscriptions: EventSubscription[] = [];

    const publishDeleted = (message: Widget, context: { projectId?: string; actor?: string } = {}) =>
      dataSource.transaction((manager) => outbox.publish(manager, widgetEvents, { subject: WIDGET_DELETED, message, ...context }));

    beforeEach(async () => {
      dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
      bus = new InProcessBus();
      relay = new OutboxRelay({ dataSource, bus, pollIntervalMs: 10 });
      outbox = new Outbox({ relay });
      relay.start();
    });

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
      await relay.stop();
      await bus.close();
      await dataSource.destroy();
    });

    it('publishes the message the catalog declares for the subject, under that message type', async () => {
      const received: Array<{ name: string; envelope: EventEnvelope }> = [];
      subscriptions.push(
        await subscribeToEvent(bus, dataSource, widgetEvents, {
          durable: 'deleted-widgets',
          subject: WIDGET_DELETED,
          // The handler's message is a Widget because the catalog says widget.deleted carries one.
          handle: async (widget: Widget, envelope) => void received.push({ name: widget.name, envelope }),
        }),
      );

      const eventId = await publishDeleted(create(WidgetSchema, { id: 'w-1', name: 'sprocket' }), { projectId: 'p-1', actor: 'user-7' });

      await eventually(() => expect(received).toHaveLength(1));
      expect(received[0].name).toBe('sprocket');
      expect(received[0].envelope).toMatchObject({ id: eventId, subject: WIDGET_DELETED, payloadType: 'trellis.kittest.v1.Widget', projectId: 'p-1', actor: 'user-7' });
    });

    it('hands a watcher of a subject its decoded message', async () => {
      const names: string[] = [];
      subscriptions.push(
        await watchEvent(bus, widgetEvents, {
          subject: WIDGET_CREATED,
          since: new Date(),
          handler: (created: WidgetCreated) => void names.push(created.widget?.name ?? ''),
        }),
      );

      await dataSource.transaction((manager) =>
        outbox.publish(manager, widgetEvents, { subject: WIDGET_CREATED, message: create(WidgetCreatedSchema, { widget: { name: 'gear' } }) }),
      );

      await eventually(() => expect(names).toEqual(['gear']));
    });

    it('does not type-check, and refuses at run time, a message that another subject carries', async () => {
      const created = create(WidgetCreatedSchema, { widget: { name: 'sprocket' } });

      await expect(
        dataSource.transaction((manager) =>
          // @ts-expect-error widget.deleted carries a Widget, not a WidgetCreated
          outbox.publish(manager, widgetEvents, { subject: WIDGET_DELETED, message: created }),
        ),
      ).rejects.toThrow('event subject "trellis.kittest.v1.widget.deleted" carries trellis.kittest.v1.Widget, not trellis.kittest.v1.WidgetCreated');
      expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0);
    });

    it('does not type-check, and refuses at run time, a subject the catalog does not declare', async () => {
      await expect(
        dataSource.transaction((manager) =>
          // @ts-expect-error widget.renamed is not in the catalog
          outbox.publish(manager, widgetEvents, { subject: 'trellis.kittest.v1.widget.renamed', message: create(WidgetSchema) }),
        ),
      ).rejects.toThrow('"trellis.kittest.v1.widget.renamed" is not an event subject of this catalog');
    });

    it('refuses a plain object posing as a message, from a caller without types', async () => {
      await expect(publishDeleted({ name: 'sprocket' } as never)).rejects.toThrow(
        'carries trellis.kittest.v1.Widget, not a protobuf message',
      );
    });

    it('does not type-check a handler that expects another message than its subject carries, which it would be given', async () => {
      const given: string[] = [];
      subscriptions.push(
        await subscribeToEvent(bus, dataSource, widgetEvents, {
          durable: 'mistyped',
          subject: WIDGET_CREATED,
          // @ts-expect-error widget.created carries a WidgetCreated, not a GetWidgetRequest
          handle: async (request: GetWidgetRequest) => void given.push(request.$typeName),
        }),
      );

      await dataSource.transaction((manager) => outbox.publish(manager, widgetEvents, { subject: WIDGET_CREATED, message: create(WidgetCreatedSchema) }));

      await eventually(() => expect(given).toEqual(['trellis.kittest.v1.WidgetCreated']));
    });
  });
});
