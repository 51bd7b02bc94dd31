import { create, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@trellis/proto';
import { createTestDatabase, type TestDatabase } from '@trellis/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus, EventHandler } from './event-bus';
import { subscribeIdempotent } from './subscribe-idempotent';
import { recordSeenWidget, seenWidgets, WIDGET_CREATED } from './test-fixtures/widget-events';

describe('subscribeIdempotent on PostgreSQL', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let consumers: DataSource[];

  beforeEach(async () => {
    database = await createTestDatabase();
    consumers = [];
  });

  afterEach(async () => {
    await Promise.all(consumers.map((consumer) => consumer.destroy()));
    await database.drop();
  });

  it('acts once when two consumer processes handle the same event at the same moment', async () => {
    const handlers: EventHandler[] = [];
    let calls = 0;
    for (let process = 0; process < 2; process++) {
      const consumer = await openDatabase({ service: 'consumer', database: database.config, ...widgetTables });
      consumers.push(consumer);
      const bus: EventBus = {
        publish: async () => undefined,
        subscribe: async (options) => {
          if (options.handler) handlers.push(options.handler);
          return { stop: async () => undefined };
        },
        watch: () => Promise.reject(new Error('not used')),
        close: async () => undefined,
      };
      await subscribeIdempotent(bus, consumer, {
        durable: 'seen',
        subject: WIDGET_CREATED,
        schema: WidgetCreatedSchema,
        handle: async (message, envelope, manager) => {
          calls += 1;
          await sleep(100);
          await recordSeenWidget(message, envelope, manager);
        },
      });
    }
    const envelope = create(EventEnvelopeSchema, {
      id: '6f1c2a57-3f0e-4c55-9b53-1d3f4b6f9e01',
      subject: WIDGET_CREATED,
      payloadType: WidgetCreatedSchema.typeName,
      payload: toBinary(WidgetCreatedSchema, create(WidgetCreatedSchema, { widget: { id: 'w-1' } })),
    });

    await Promise.all(handlers.map((handler) => handler(envelope)));

    expect(calls).toBe(1);
    expect(await seenWidgets(consumers[0])).toEqual(['w-1']);
  });
});
