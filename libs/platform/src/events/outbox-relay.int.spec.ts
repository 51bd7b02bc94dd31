import { create, fromBinary } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@trellis/proto';
import { createTestDatabase, eventually, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { busThatDiesAfterPublishing, createWidget, WIDGET_CREATED } from './test-fixtures/widget-events';

/** A bus that only records what reaches it. */
function recordingBus(): EventBus & { envelopes: EventEnvelope[] } {
  const envelopes: EventEnvelope[] = [];
  return {
    envelopes,
    publish: async (envelope) => void envelopes.push(envelope),
    subscribe: () => Promise.reject(new Error('not used')),
    watch: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  };
}

describe('OutboxRelay on PostgreSQL', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let dataSource: DataSource;
  const relays: OutboxRelay[] = [];
  const others: DataSource[] = [];

  const startRelay = (bus: EventBus, on = dataSource, batchSize = 100) => {
    const relay = new OutboxRelay({ dataSource: on, bus, pollIntervalMs: 10, retryInitialMs: 10, batchSize });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const names = (envelopes: EventEnvelope[]) => envelopes.map((envelope) => fromBinary(WidgetCreatedSchema, envelope.payload).widget?.name);

  beforeEach(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ service: 'producer', database: database.config, ...widgetTables });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all([dataSource, ...others.splice(0)].map((each) => each.destroy()));
    await database.drop();
  });

  it('publishes committed events in commit order and removes them from the outbox', async () => {
    const outbox = new Outbox();
    const expected = Array.from({ length: 12 }, (_, index) => `widget-${index}`);
    for (const name of expected) await createWidget(dataSource, outbox, name);
    const bus = recordingBus();
    startRelay(bus, dataSource, 5);

    // A batch reaches the bus before its rows are deleted, so the outbox empties a moment after the last publish.
    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    expect(names(bus.envelopes)).toEqual(expected);
  });

  it('publishes and drains the outbox of a service whose tables are in a schema of their own', async () => {
    const inSchema = await openDatabase({ service: 'producer', database: { ...database.config, schema: 'producer_own' }, ...widgetTables });
    others.push(inSchema);
    const outbox = new Outbox();
    await createWidget(inSchema, outbox, 'single');
    await inSchema.transaction((manager) =>
      outbox.publishAll(manager, ['a', 'b'].map((name) => ({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema, { widget: { name } }), actor: name }))),
    );
    const bus = recordingBus();
    startRelay(bus, inSchema);

    await eventually(async () => expect(await inSchema.getRepository(OutboxEntity).count()).toBe(0));
    expect(names(bus.envelopes)).toEqual(['single', 'a', 'b']);
    expect(bus.envelopes.map(({ actor, requestId }) => ({ actor, requestId }))).toEqual([
      { actor: 'user-7', requestId: 'req-single' },
      { actor: 'a', requestId: '' },
      { actor: 'b', requestId: '' },
    ]);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM public.trellis_outbox`)).toEqual([{ n: 0 }]);
  });

  it('publishes nothing from a transaction that rolled back', async () => {
    const outbox = new Outbox();
    await expect(createWidget(dataSource, outbox, 'doomed', { failAfterPublish: true })).rejects.toThrow();
    await createWidget(dataSource, outbox, 'kept');
    const bus = recordingBus();
    startRelay(bus);

    await eventually(() => expect(names(bus.envelopes)).toEqual(['kept']));
  });

  it('lets relays in several processes drain one outbox without publishing any event twice', async () => {
    const outbox = new Outbox();
    const created = await Promise.all(Array.from({ length: 60 }, (_, index) => createWidget(dataSource, outbox, `widget-${index}`)));
    const bus = recordingBus();
    for (let process = 0; process < 3; process++) {
      const own = await openDatabase({ service: 'producer', database: database.config, ...widgetTables });
      others.push(own);
      startRelay(bus, own, 7);
    }

    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    const published = bus.envelopes.map((envelope) => envelope.id);
    expect(published.sort()).toEqual(created.map((event) => event.eventId).sort());
  });

  it('keeps an event whose publish was not recorded, and a new relay publishes it again with the same id', async () => {
    const { eventId } = await createWidget(dataSource, new Outbox(), 'sprocket');
    const bus = recordingBus();
    const dying = busThatDiesAfterPublishing(bus);
    const first = startRelay(dying);
    await eventually(() => expect(dying.published).toContain(eventId));
    await first.stop();
    expect(await dataSource.getRepository(OutboxEntity).findOneBy({ id: eventId })).not.toBeNull();

    startRelay(bus);

    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    expect(new Set(bus.envelopes.map((envelope) => envelope.id))).toEqual(new Set([eventId]));
  });

  it('wakes at commit when the Outbox is given the relay', async () => {
    const bus = recordingBus();
    const relay = new OutboxRelay({ dataSource, bus, pollIntervalMs: 600_000 });
    relays.push(relay);
    await createWidget(dataSource, new Outbox(), 'first');
    relay.start();
    // Its first pass is over once the outbox is empty; from then on only a commit can wake it before 600 s.
    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    await createWidget(dataSource, new Outbox({ relay }), 'prompt');

    await eventually(() => expect(names(bus.envelopes)).toEqual(['first', 'prompt']));
  });
});
