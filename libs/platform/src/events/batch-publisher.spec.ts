import { create, fromBinary } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { WidgetCreatedSchema, WidgetSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { Metrics } from '../ops/metrics';
import { BatchPublisher, type BatchPublisherOptions } from './batch-publisher';
import type { EventBus } from './event-bus';
import { InProcessBus } from './in-process-bus';
import { widgetEvents, WIDGET_CREATED, WIDGET_DELETED } from './test-fixtures/widget-events';

type WidgetEvents = typeof widgetEvents.table;

/** A gate a handler can be held at until the spec opens it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function droppedCount(metrics: Metrics, subject: string): Promise<number> {
  const { values } = await metrics.eventsDropped.get();
  return values.find((value) => value.labels.subject === subject)?.value ?? 0;
}

const widget = (name: string) => create(WidgetSchema, { id: name, name });

describe('BatchPublisher on the in-process bus', () => {
  let bus: InProcessBus;
  let metrics: Metrics;
  let received: EventEnvelope[];
  let arrived: string[];
  let held: { wait: Promise<void>; open: () => void } | undefined;
  let publishers: Array<BatchPublisher<WidgetEvents>>;

  const names = () => received.map((envelope) => fromBinary(WidgetSchema, envelope.payload).name);
  const publisher = (options: Partial<BatchPublisherOptions<WidgetEvents>> = {}) => {
    const made = new BatchPublisher({ bus, events: widgetEvents, metrics, retryInitialMs: 1, ...options });
    publishers.push(made);
    return made;
  };

  beforeEach(async () => {
    bus = new InProcessBus();
    metrics = new Metrics();
    received = [];
    arrived = [];
    held = undefined;
    publishers = [];
    await bus.subscribe({
      durable: 'widget-log',
      subject: WIDGET_DELETED,
      handler: async (envelope) => {
        arrived.push(fromBinary(WidgetSchema, envelope.payload).name);
        await held?.wait;
        received.push(envelope);
      },
    });
  });

  afterEach(async () => {
    held?.open();
    await Promise.all(publishers.map((each) => each.close()));
    await bus.close();
  });

  it('delivers every event in publish order, each with its message and context', async () => {
    const events = publisher({ batchSize: 64 });
    const expected = Array.from({ length: 1000 }, (_, index) => `widget-${index}`);

    for (const name of expected) await events.publish(WIDGET_DELETED, widget(name), { projectId: 'p-1', actor: 'user-7' });
    await events.flush();

    expect(names()).toEqual(expected);
    expect(received[0]).toMatchObject({ subject: WIDGET_DELETED, payloadType: 'trellis.kittest.v1.Widget', projectId: 'p-1', actor: 'user-7' });
    expect(new Set(received.map((envelope) => envelope.id)).size).toBe(1000);
  });

  it('makes publish wait for room while the bus is busy, then takes the event', async () => {
    held = gate();
    const events = publisher({ bufferSize: 4, batchSize: 2 });
    for (const name of ['a', 'b', 'c', 'd']) expect(await events.publish(WIDGET_DELETED, widget(name))).toBe(true);
    let fifth: boolean | undefined;
    const waiting = events.publish(WIDGET_DELETED, widget('e')).then((buffered) => (fifth = buffered));

    // Nothing leaves the buffer while the subscriber holds the first event, so the fifth cannot fit.
    await eventually(() => expect(arrived).toEqual(['a']));
    expect(fifth).toBeUndefined();
    held.open();

    await waiting;
    expect(fifth).toBe(true);
    await events.flush();
    expect(names()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(0);
  });

  it('drops what does not fit in lossy mode, and counts it by subject', async () => {
    held = gate();
    const events = publisher({ bufferSize: 4, batchSize: 2, whenFull: 'drop' });

    const outcomes = [];
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) outcomes.push(await events.publish(WIDGET_DELETED, widget(name)));

    expect(outcomes).toEqual([true, true, true, true, false, false, false]);
    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(3);
    expect(await droppedCount(metrics, WIDGET_CREATED)).toBe(0);
    held.open();
    await events.flush();
    expect(names()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('sends an event the bus refused again, after those before it, without repeating them', async () => {
    let refusals = 2;
    await bus.subscribe({
      durable: 'flaky',
      subject: WIDGET_DELETED,
      handler: async (envelope) => {
        if (fromBinary(WidgetSchema, envelope.payload).name === 'c' && refusals-- > 0) throw new Error('not now');
      },
    });
    const events = publisher({ batchSize: 10 });

    for (const name of ['a', 'b', 'c', 'd']) await events.publish(WIDGET_DELETED, widget(name));
    await events.flush();

    expect(names()).toEqual(['a', 'b', 'c', 'd']);
    expect(refusals).toBe(-1);
  });

  it('publishes what is buffered at close, and refuses events after it', async () => {
    const events = publisher({ lingerMs: 600_000, batchSize: 100 });
    for (const name of ['a', 'b', 'c']) await events.publish(WIDGET_DELETED, widget(name));

    await events.close();

    expect(names()).toEqual(['a', 'b', 'c']);
    expect(() => events.publish(WIDGET_DELETED, widget('late'))).toThrow('the batch publisher is closed');
  });

  it('drops and counts at close what the bus still refuses', async () => {
    const refusing: EventBus = {
      publish: () => Promise.reject(new Error('bus down')),
      subscribe: () => Promise.reject(new Error('not used')),
      watch: () => Promise.reject(new Error('not used')),
      close: async () => undefined,
    };
    const events = publisher({ bus: refusing, retryInitialMs: 600_000 });
    for (const name of ['a', 'b', 'c']) await events.publish(WIDGET_DELETED, widget(name));
    await events.publish(WIDGET_CREATED, create(WidgetCreatedSchema, { widget: widget('d') }));

    await events.close();

    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(3);
    expect(await droppedCount(metrics, WIDGET_CREATED)).toBe(1);
  });

  it('builds an offered event only when its batch is sent, in order with published ones, with the time and context of the offer', async () => {
    const events = publisher({ lingerMs: 600_000, batchSize: 100 });
    const build = jest.fn(() => widget('b'));
    const offeredAt = Date.now();

    await events.publish(WIDGET_DELETED, widget('a'));
    expect(events.offer(WIDGET_DELETED, build, { projectId: 'p-1', requestId: 'req-1' })).toBe(true);
    await events.publish(WIDGET_DELETED, widget('c'));
    expect(build).not.toHaveBeenCalled();
    await events.flush();

    expect(build).toHaveBeenCalledTimes(1);
    expect(names()).toEqual(['a', 'b', 'c']);
    expect(received[1]).toMatchObject({ subject: WIDGET_DELETED, payloadType: 'trellis.kittest.v1.Widget', projectId: 'p-1', requestId: 'req-1' });
    expect(Number(received[1].eventTime!.seconds) * 1000).toBeGreaterThanOrEqual(Math.floor(offeredAt / 1000) * 1000);
  });

  it('drops an offer under back-pressure at once, whatever its policy, counting it and never building it', async () => {
    held = gate();
    const events = publisher({ bufferSize: 3, batchSize: 1 });
    const built: string[] = [];
    const offer = (name: string) => events.offer(WIDGET_DELETED, () => (built.push(name), widget(name)));

    const outcomes = ['a', 'b', 'c', 'd', 'e'].map(offer);
    // The first is in the batch the subscriber holds; the buffer still counts it until the bus took it.
    await eventually(() => expect(arrived).toEqual(['a']));
    outcomes.push(offer('f'));

    expect(outcomes).toEqual([true, true, true, false, false, false]);
    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(3);
    held.open();
    await events.flush();
    expect(names()).toEqual(['a', 'b', 'c']);
    expect(built).toEqual(['a', 'b', 'c']);
  });

  it('drops and counts an offered event whose build fails, or makes the wrong message, and sends the rest', async () => {
    const events = publisher({ lingerMs: 600_000 });

    events.offer(WIDGET_DELETED, () => widget('a'));
    events.offer(WIDGET_DELETED, () => {
      throw new Error('tensor gone');
    });
    // @ts-expect-error widget.created carries a WidgetCreated, not a Widget
    events.offer(WIDGET_CREATED, () => widget('wrong'));
    events.offer(WIDGET_DELETED, () => widget('d'));
    await events.flush();

    expect(names()).toEqual(['a', 'd']);
    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(1);
    expect(await droppedCount(metrics, WIDGET_CREATED)).toBe(1);
  });

  it('drops and counts an offer after close, without throwing', async () => {
    const events = publisher();
    await events.close();

    expect(events.offer(WIDGET_DELETED, () => widget('late'))).toBe(false);
    expect(await droppedCount(metrics, WIDGET_DELETED)).toBe(1);
  });

  it("does not type-check, and refuses at run time, a message that is not its subject's", () => {
    const events = publisher();
    // @ts-expect-error widget.created carries a WidgetCreated, not a Widget
    expect(() => events.publish(WIDGET_CREATED, widget('a'))).toThrow('carries trellis.kittest.v1.WidgetCreated, not trellis.kittest.v1.Widget');
  });
});
