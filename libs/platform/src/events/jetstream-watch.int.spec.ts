import { create } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@trellis/proto';
import { eventually, testNatsConfig, type TestNatsConfig } from '@trellis/testing';
import type { EventBus } from './event-bus';
import { JetStreamBus } from './jetstream-bus';

const SUBJECT = 'trellis.kittest.v1.gadget.changed';
const envelope = (id: string) => create(EventEnvelopeSchema, { id, subject: SUBJECT, payloadType: 'x.Y' });

/** A time after everything stored so far and before anything stored from now on (one clock: NATS runs here). */
async function aMomentLater(): Promise<Date> {
  const moment = new Date(Date.now() + 1);
  while (Date.now() <= moment.getTime()) await new Promise(setImmediate);
  return moment;
}

/** Starts a watch from `since` and returns the ids it receives, in order. */
async function watchIds(bus: EventBus, since: Date): Promise<string[]> {
  const seen: string[] = [];
  await bus.watch({ subject: 'trellis.kittest.v1.gadget.*', since, handler: (event) => void seen.push(event.id) });
  return seen;
}

describe('EventBus.watch on JetStream: every process sees every event', () => {
  let nats: TestNatsConfig;
  const buses: JetStreamBus[] = [];
  const connectBus = async () => {
    const bus = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix });
    buses.push(bus);
    return bus;
  };

  beforeEach(() => {
    nats = testNatsConfig();
  });

  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    await nats.cleanup();
  });

  it('delivers each event to every watching process, where a durable would share them out', async () => {
    const [publisher, first, second] = [await connectBus(), await connectBus(), await connectBus()];
    const seenByFirst = await watchIds(first, new Date());
    const seenBySecond = await watchIds(second, new Date());

    for (const id of ['a', 'b', 'c']) await publisher.publish(envelope(id));

    await eventually(() => expect(seenByFirst).toEqual(['a', 'b', 'c']));
    await eventually(() => expect(seenBySecond).toEqual(['a', 'b', 'c']));
  });

  it('replays the events published since the given time to a process that starts watching later', async () => {
    const publisher = await connectBus();
    await publisher.publish(envelope('before'));
    const since = await aMomentLater();
    await publisher.publish(envelope('after'));

    const late = await connectBus();
    const seen = await watchIds(late, since);
    await publisher.publish(envelope('live'));

    await eventually(() => expect(seen).toEqual(['after', 'live']));
  });

  it('skips an event whose handler fails and goes on with the next', async () => {
    const bus = await connectBus();
    const seen: string[] = [];
    await bus.watch({
      subject: SUBJECT,
      since: new Date(),
      handler: (event) => {
        if (event.id === 'bad') throw new Error('cannot apply');
        seen.push(event.id);
      },
    });
    for (const id of ['bad', 'good']) await bus.publish(envelope(id));
    await eventually(() => expect(seen).toEqual(['good']));
  });
});
