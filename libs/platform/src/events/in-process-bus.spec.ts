import { create } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KitLogger } from '../persistence/logger';
import { InProcessBus } from './in-process-bus';

const envelope = (subject: string, id = `id-${subject}`) => create(EventEnvelopeSchema, { id, subject, payloadType: 'x.Y' });

describe('InProcessBus', () => {
  let bus: InProcessBus;

  afterEach(async () => {
    await bus.close();
  });

  const collect = async (durable: string, subject: string) => {
    const seen: string[] = [];
    await bus.subscribe({ durable, subject, handler: async (event) => void seen.push(event.subject) });
    return seen;
  };

  it('delivers each event once to every durable whose subject pattern matches', async () => {
    bus = new InProcessBus();
    const runs = await collect('runs', 'trellis.tracking.v1.run.*');
    const tracking = await collect('tracking', 'trellis.tracking.>');
    const models = await collect('models', 'trellis.registry.v1.model.created');

    await bus.publish(envelope('trellis.tracking.v1.run.finished'));
    await bus.publish(envelope('trellis.tracking.v1.experiment.created'));
    await bus.publish(envelope('trellis.registry.v1.model.created'));

    expect(runs).toEqual(['trellis.tracking.v1.run.finished']);
    expect(tracking).toEqual(['trellis.tracking.v1.run.finished', 'trellis.tracking.v1.experiment.created']);
    expect(models).toEqual(['trellis.registry.v1.model.created']);
  });

  it('resolves publish only after every handler has finished', async () => {
    bus = new InProcessBus();
    let finished = false;
    await bus.subscribe({
      durable: 'slow',
      subject: 'trellis.>',
      handler: async () => {
        await sleep(30);
        finished = true;
      },
    });

    await bus.publish(envelope('trellis.a.v1.b.c'));

    expect(finished).toBe(true);
  });

  it('gives each handler its own copy of the envelope', async () => {
    bus = new InProcessBus();
    const copies: EventEnvelope[] = [];
    for (const durable of ['one', 'two']) {
      await bus.subscribe({ durable, subject: 'trellis.>', handler: async (event) => void copies.push(event) });
    }
    const sent = envelope('trellis.a.v1.b.c');

    await bus.publish(sent);

    expect(copies).toHaveLength(2);
    expect(copies[0]).toEqual(sent);
    expect(copies[0]).not.toBe(sent);
    expect(copies[0]).not.toBe(copies[1]);
  });

  it('rejects publish when a handler throws, and on the next publish calls only the durables that failed', async () => {
    bus = new InProcessBus();
    const calls: string[] = [];
    let failOnce = true;
    await bus.subscribe({ durable: 'steady', subject: 'trellis.>', handler: async () => void calls.push('steady') });
    await bus.subscribe({
      durable: 'flaky',
      subject: 'trellis.>',
      handler: async () => {
        calls.push('flaky');
        if (failOnce) {
          failOnce = false;
          throw new Error('flaky handler failed');
        }
      },
    });
    const event = envelope('trellis.a.v1.b.c');

    await expect(bus.publish(event)).rejects.toThrow('1 subscriber(s) failed to handle event id-trellis.a.v1.b.c');
    await bus.publish(event);

    expect(calls.sort()).toEqual(['flaky', 'flaky', 'steady']);
  });

  it('gives up on an event after maxDeliver failed deliveries, with an error log line', async () => {
    const errors: Array<[object, string | undefined]> = [];
    const logger: KitLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (obj, msg) => void errors.push([obj, msg]) };
    bus = new InProcessBus({ maxDeliver: 3, logger });
    let calls = 0;
    await bus.subscribe({
      durable: 'broken',
      subject: 'trellis.>',
      handler: async () => {
        calls += 1;
        throw new Error('always fails');
      },
    });
    const event = envelope('trellis.a.v1.b.c', 'event-9');

    await expect(bus.publish(event)).rejects.toThrow();
    await expect(bus.publish(event)).rejects.toThrow();
    await bus.publish(event);

    expect(calls).toBe(3);
    expect(errors).toEqual([
      [expect.objectContaining({ durable: 'broken', eventId: 'event-9', deliveries: 3 }), 'event handler failed on every delivery; giving up on this event'],
    ]);
  });

  it('shares a durable between its subscribers, one delivery each in turn', async () => {
    bus = new InProcessBus();
    const first = await collect('shared', 'trellis.>');
    const second = await collect('shared', 'trellis.>');

    for (const subject of ['trellis.a.v1.b.one', 'trellis.a.v1.b.two', 'trellis.a.v1.b.three', 'trellis.a.v1.b.four']) {
      await bus.publish(envelope(subject));
    }

    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
  });

  it('holds publishes while paused and delivers them on resume', async () => {
    bus = new InProcessBus({ paused: true });
    const publishing = bus.publish(envelope('trellis.a.v1.b.early'));
    await sleep(20);
    const seen = await collect('late-subscriber', 'trellis.>');

    bus.resume();
    await publishing;

    expect(seen).toEqual(['trellis.a.v1.b.early']);
  });

  it('stops delivering to a stopped subscription', async () => {
    bus = new InProcessBus();
    const seen: string[] = [];
    const subscription = await bus.subscribe({ durable: 'gone', subject: 'trellis.>', handler: async (event) => void seen.push(event.id) });

    await subscription.stop();
    await bus.publish(envelope('trellis.a.v1.b.c'));

    expect(seen).toEqual([]);
  });

  it('refuses to publish once closed', async () => {
    bus = new InProcessBus();
    await bus.close();

    await expect(bus.publish(envelope('trellis.a.v1.b.c'))).rejects.toThrow('the in-process event bus is closed');
  });

  it('gives every watch every event, and a failing watch holds nothing back', async () => {
    bus = new InProcessBus();
    const seen: string[][] = [[], []];
    for (const ids of seen) await bus.watch({ subject: 'trellis.>', since: new Date(), handler: (event) => void ids.push(event.id) });
    await bus.watch({
      subject: 'trellis.>',
      since: new Date(),
      handler: () => {
        throw new Error('cannot apply');
      },
    });

    await bus.publish(envelope('trellis.a.v1.b.c', 'one'));
    await bus.publish(envelope('trellis.a.v1.b.c', 'two'));

    expect(seen).toEqual([
      ['one', 'two'],
      ['one', 'two'],
    ]);
  });

  it('refuses durable names and subject patterns JetStream would refuse', async () => {
    bus = new InProcessBus();
    const handler = async () => undefined;

    await expect(bus.subscribe({ durable: 'a.b', subject: 'trellis.>', handler })).rejects.toThrow('durable name "a.b"');
    await expect(bus.subscribe({ durable: 'ab', subject: 'trellis.>.x', handler })).rejects.toThrow('not a valid event subject pattern');
  });
});
