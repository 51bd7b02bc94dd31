import { create, fromBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventEnvelope } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema, WidgetSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { WidgetRow, widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { InProcessBus } from './in-process-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { createWidget, WIDGET_CREATED } from './test-fixtures/widget-events';

describe('Outbox and OutboxRelay on SQLite', () => {
  let dataSource: DataSource;
  let bus: InProcessBus;
  let received: EventEnvelope[];
  let relay: OutboxRelay | undefined;

  const startRelay = (options: { pollIntervalMs?: number; bus?: EventBus } = {}) => {
    relay = new OutboxRelay({ dataSource, bus: options.bus ?? bus, pollIntervalMs: options.pollIntervalMs ?? 10 });
    relay.start();
    return relay;
  };
  const receivedNames = () => received.map((envelope) => fromBinary(WidgetCreatedSchema, envelope.payload).widget?.name);

  beforeEach(async () => {
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
    bus = new InProcessBus();
    received = [];
    await bus.subscribe({ durable: 'test', subject: 'trellis.kittest.>', handler: async (envelope) => void received.push(envelope) });
  });

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await bus.close();
    await dataSource.destroy();
  });

  it('delivers an event committed with its change, as an envelope carrying the message and its context', async () => {
    const before = Date.now();
    const { widgetId, eventId } = await createWidget(dataSource, new Outbox(), 'sprocket');
    startRelay();

    await eventually(() => expect(received).toHaveLength(1));
    const [envelope] = received;
    expect(envelope).toMatchObject({
      id: eventId,
      subject: WIDGET_CREATED,
      payloadType: 'trellis.kittest.v1.WidgetCreated',
      projectId: 'p-1',
      actor: 'user-7',
      requestId: 'req-sprocket',
    });
    expect(eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(fromBinary(WidgetCreatedSchema, envelope.payload).widget).toEqual(
      create(WidgetSchema, { id: widgetId, projectId: 'p-1', name: 'sprocket', size: 42n }),
    );
    const occurredAt = envelope.eventTime ? timestampDate(envelope.eventTime).getTime() : Number.NaN;
    expect(occurredAt).toBeGreaterThanOrEqual(before);
    expect(occurredAt).toBeLessThanOrEqual(Date.now());
    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
  });

  it('publishes nothing when the transaction rolls back', async () => {
    const outbox = new Outbox();
    await expect(createWidget(dataSource, outbox, 'doomed', { failAfterPublish: true })).rejects.toThrow('creating doomed failed');
    await createWidget(dataSource, outbox, 'kept');
    startRelay();

    // The relay drains in order, so once "kept" arrived "doomed" would have arrived before it.
    await eventually(() => expect(receivedNames()).toEqual(['kept']));
    expect(await dataSource.getRepository(WidgetRow).count()).toBe(1);
  });

  it('never hands out an event whose transaction has not committed yet', async () => {
    startRelay({ pollIntervalMs: 1 });
    let commit = () => undefined as void;
    const transaction = createWidgetWhenReleased(new Promise<void>((resolve) => (commit = resolve)));

    await sleep(100);
    expect(received).toHaveLength(0);
    commit();
    await transaction;
    await eventually(() => expect(receivedNames()).toEqual(['slow']));
  });

  async function createWidgetWhenReleased(release: Promise<void>) {
    const outbox = new Outbox();
    await dataSource.transaction(async (manager) => {
      await outbox.publish(manager, {
        subject: WIDGET_CREATED,
        schema: WidgetCreatedSchema,
        message: create(WidgetCreatedSchema, { widget: { name: 'slow' } }),
      });
      await release;
    });
  }

  it('delivers events in the order they were committed', async () => {
    const outbox = new Outbox();
    const names = Array.from({ length: 25 }, (_, index) => `widget-${String(index).padStart(2, '0')}`);
    for (const name of names) await createWidget(dataSource, outbox, name);
    relay = new OutboxRelay({ dataSource, bus, batchSize: 10 });
    relay.start();

    await eventually(() => expect(receivedNames()).toEqual(names));
  });

  it('writes the events of publishAll in order, and none of them if one is refused', async () => {
    const outbox = new Outbox();
    const event = (name: string, subject = WIDGET_CREATED) => ({ subject, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema, { widget: { name } }), actor: name });
    await expect(dataSource.transaction((manager) => outbox.publishAll(manager, [event('bad-1'), event('bad-2', 'trellis.kittest.v1.widget.*')]))).rejects.toThrow('without wildcards');
    const ids = await dataSource.transaction((manager) => outbox.publishAll(manager, ['a', 'b', 'c'].map((name) => event(name))));
    startRelay();

    await eventually(() => expect(receivedNames()).toEqual(['a', 'b', 'c']));
    expect(received.map(({ id, actor }) => ({ id, actor }))).toEqual(ids.map((id, index) => ({ id, actor: ['a', 'b', 'c'][index] })));
  });

  it('writes more events than one INSERT holds in one publishAll, all of them in order', async () => {
    const names = Array.from({ length: 1001 }, (_, index) => `w-${index}`);
    await dataSource.transaction((manager) =>
      new Outbox().publishAll(manager, names.map((name) => ({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema, { widget: { name } }) }))),
    );
    startRelay();

    await eventually(() => expect(receivedNames()).toEqual(names));
  });

  it('wakes the relay at commit instead of waiting for its next poll', async () => {
    await createWidget(dataSource, new Outbox(), 'first');
    const relay = startRelay({ pollIntervalMs: 600_000 });
    // Its first pass is over once the outbox is empty; from then on only a commit can wake it before 600 s.
    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    await createWidget(dataSource, new Outbox({ relay }), 'prompt');

    await eventually(() => expect(receivedNames()).toEqual(['first', 'prompt']));
  });

  it('finishes and records the batch in flight when stopped', async () => {
    let release = () => undefined as void;
    let picked = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pickedUp = new Promise<void>((resolve) => (picked = resolve));
    const slowBus: EventBus = {
      publish: async (envelope) => {
        picked();
        await held;
        await bus.publish(envelope);
      },
      subscribe: bus.subscribe.bind(bus),
      watch: bus.watch.bind(bus),
      close: bus.close.bind(bus),
    };
    await createWidget(dataSource, new Outbox(), 'in-flight');
    const relay = startRelay({ bus: slowBus });
    await pickedUp;

    const stopped = relay.stop();
    release();
    await stopped;

    expect(receivedNames()).toEqual(['in-flight']);
    expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0);
  });

  it("leaves the connection syncing every commit after the relay's deletes, which skip that sync", async () => {
    await createWidget(dataSource, new Outbox(), 'first');
    startRelay();
    await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));

    expect(await dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
    expect(receivedNames()).toEqual(['first']);
  });

  it('stores what publish and publishAll are given, absent context included, as the relay delivers it', async () => {
    const outbox = new Outbox();
    const message = (name: string) => create(WidgetCreatedSchema, { widget: { name, size: 7n } });
    await dataSource.transaction(async (manager) => {
      await outbox.publish(manager, { subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: message('bare') });
      await outbox.publishAll(manager, [
        { subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: message('full'), projectId: 'p-2', actor: 'user-8', requestId: 'req-full' },
        { subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: message('empty') },
      ]);
    });
    startRelay();

    await eventually(() => expect(receivedNames()).toEqual(['bare', 'full', 'empty']));
    expect(received.map(({ projectId, actor, requestId }) => ({ projectId, actor, requestId }))).toEqual([
      { projectId: '', actor: '', requestId: '' },
      { projectId: 'p-2', actor: 'user-8', requestId: 'req-full' },
      { projectId: '', actor: '', requestId: '' },
    ]);
    expect(fromBinary(WidgetCreatedSchema, received[1].payload).widget?.size).toBe(7n);
  });

  it('keeps the event the bus refused and the ones after it, removes the ones before, and delivers the rest in order later', async () => {
    const outbox = new Outbox();
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const name of names) await createWidget(dataSource, outbox, name);
    const offered: string[] = [];
    const refusesC: EventBus = {
      publish: async (envelope) => {
        const name = fromBinary(WidgetCreatedSchema, envelope.payload).widget?.name ?? '';
        offered.push(name);
        if (name === 'c' && offered.filter((each) => each === 'c').length === 1) throw new Error('bus unavailable');
        await bus.publish(envelope);
      },
      subscribe: bus.subscribe.bind(bus),
      watch: bus.watch.bind(bus),
      close: bus.close.bind(bus),
    };
    relay = new OutboxRelay({ dataSource, bus: refusesC, pollIntervalMs: 10, retryInitialMs: 10 });
    relay.start();

    await eventually(() => expect(receivedNames()).toEqual(names));
    expect(offered).toEqual(['a', 'b', 'c', 'c', 'd', 'e']);
    expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0);
  });

  it('refuses to publish outside a transaction', async () => {
    await expect(
      new Outbox().publish(dataSource.manager, { subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema) }),
    ).rejects.toThrow('Outbox.publish needs the EntityManager of an open transaction');
  });

  it('refuses subjects with wildcards or outside trellis., and messages of another schema', async () => {
    const outbox = new Outbox();
    const publish = (subject: string) =>
      dataSource.transaction((manager) => outbox.publish(manager, { subject, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema) }));

    await expect(publish('trellis.kittest.v1.widget.*')).rejects.toThrow('without wildcards');
    await expect(publish('kittest.v1.widget.created')).rejects.toThrow('must start with "trellis."');
    await expect(
      dataSource.transaction((manager) =>
        outbox.publish(manager, { subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: create(WidgetSchema) as never }),
      ),
    ).rejects.toThrow('event message is a trellis.kittest.v1.Widget, but its schema is trellis.kittest.v1.WidgetCreated');
    expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0);
  });
});
