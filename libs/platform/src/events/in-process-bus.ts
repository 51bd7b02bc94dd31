import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import { silentLogger, type KitLogger } from '../persistence/logger';
import type { EventBus, EventHandler, EventSubscription, SubscribeBatch, SubscribeOptions, WatchOptions } from './event-bus';
import { checkDurableName, checkSubject, subjectMatches } from './subject-match';

/** How an {@link InProcessBus} delivers. */
export interface InProcessBusOptions {
  /**
   * Deliveries of one event to one durable before the bus gives up on that pair, logs an error
   * and treats it as handled (so one broken handler cannot hold back a service's outbox forever).
   * Default 10, as on JetStream.
   */
  maxDeliver?: number;
  /**
   * Start paused: `publish` waits until `resume()`. Standalone mode starts paused and resumes once
   * every service has subscribed, so an event left in an outbox from the last run is not handed
   * out before its consumers exist (there is no stream here to keep it for them).
   */
  paused?: boolean;
  /**
   * How long the inboxes keep their records (see `EventBus.redeliveryWindowMs`). Here an event
   * comes again only when a relay publishes its outbox row again: within seconds while the process
   * runs, but after a restart as long as the process was down. Default 7 days, as JetStream's
   * default max age.
   */
  redeliveryWindowMs?: number;
  logger?: KitLogger;
}

/** An event of a delivery, and what each durable did with it so far. */
interface Pending {
  envelope: EventEnvelope;
  state: Map<string, number | 'done'>;
}

interface Subscriber {
  durable: string;
  subject: string;
  handler?: EventHandler;
  batch?: SubscribeBatch;
  running: Set<Promise<unknown>>;
}

/**
 * The event bus of standalone mode: every service in one process, events delivered by function
 * call to the subscribers whose subject pattern matches (NATS wildcard rules).
 *
 * `publish` resolves only after every matching durable has handled the event, so the outbox relay
 * removes a row only once it was delivered; if a handler throws, `publish` rejects and the relay
 * publishes the event again later. Durables that already handled it are not called again for
 * that retry (while this process lives), and each handler gets its own decoded copy of the
 * envelope, as it would from the wire. Subscribers that share a durable name take turns.
 *
 * `publishBatch` delivers its events the same way, in order, handing a batched subscriber up to its
 * `maxEvents` of them in one call; a `publish` reaches it as a batch of one, without lingering.
 *
 * Because the relay keeps outbox order, an event whose handler keeps failing holds back the
 * events after it in its service's outbox until `maxDeliver` is reached.
 */
export class InProcessBus implements EventBus {
  private readonly subscribers: Subscriber[] = [];
  private readonly turns = new Map<string, number>();
  /** Per event id still being retried: per durable, failed deliveries so far, or 'done'. */
  private readonly deliveries = new Map<string, Map<string, number | 'done'>>();
  private readonly maxDeliver: number;
  private readonly logger: KitLogger;
  readonly redeliveryWindowMs: number;
  private closed = false;
  private watches = 0;
  private resumed: Promise<void>;
  private release: () => void = () => undefined;

  constructor(options: InProcessBusOptions = {}) {
    this.maxDeliver = options.maxDeliver ?? 10;
    this.redeliveryWindowMs = options.redeliveryWindowMs ?? 7 * 24 * 3600 * 1000;
    this.logger = options.logger ?? silentLogger;
    this.resumed = options.paused ? new Promise((resolve) => (this.release = resolve)) : Promise.resolve();
  }

  /** Lets publishing proceed (see {@link InProcessBusOptions.paused}); does nothing if not paused. */
  resume(): void {
    this.release();
  }

  async publish(envelope: EventEnvelope): Promise<void> {
    await this.deliverAll([envelope]);
  }

  /**
   * Delivers the events in order, as `publish` would one by one, except that a batched subscriber
   * gets them in batches of up to its `maxEvents`. Rejects if any subscriber failed on any of them;
   * publishing the batch again delivers only what each durable has not handled yet.
   */
  async publishBatch(envelopes: readonly EventEnvelope[]): Promise<void> {
    await this.deliverAll(envelopes);
  }

  private async deliverAll(envelopes: readonly EventEnvelope[]): Promise<void> {
    await this.resumed;
    if (this.closed) throw new Error('the in-process event bus is closed');
    const bySubscriber = new Map<Subscriber, Pending[]>();
    const tracked: Array<Pending & { durables: string[] }> = [];
    for (const envelope of envelopes) {
      const subscribers = this.pickOnePerDurable(envelope.subject);
      // Nobody listens (prediction logs in a process without monitoring): nothing to encode or deliver.
      if (subscribers.length === 0) {
        this.deliveries.delete(envelope.id);
        continue;
      }
      const pending = { envelope, state: this.deliveries.get(envelope.id) ?? new Map<string, number | 'done'>() };
      tracked.push({ ...pending, durables: subscribers.map((subscriber) => subscriber.durable) });
      for (const subscriber of subscribers) {
        if (pending.state.get(subscriber.durable) === 'done') continue;
        const events = bySubscriber.get(subscriber);
        if (events) events.push(pending);
        else bySubscriber.set(subscriber, [pending]);
      }
    }
    const bytes = new Map<EventEnvelope, Uint8Array>();
    const copy = (envelope: EventEnvelope) => {
      let encoded = bytes.get(envelope);
      if (!encoded) bytes.set(envelope, (encoded = toBinary(EventEnvelopeSchema, envelope)));
      return fromBinary(EventEnvelopeSchema, encoded);
    };
    const failures: unknown[] = [];
    await Promise.all(
      [...bySubscriber].map(async ([subscriber, events]) => {
        const size = subscriber.batch?.maxEvents ?? 1;
        // One batch after another, in order; after a failure the rest waits for the publisher's retry.
        for (let start = 0; start < events.length; start += size) {
          const chunk = events.slice(start, start + size);
          try {
            await this.deliver(subscriber, chunk.map((event) => copy(event.envelope)));
            for (const { state } of chunk) state.set(subscriber.durable, 'done');
          } catch (error) {
            if (this.countFailure(subscriber, chunk, error)) {
              failures.push(error);
              return;
            }
          }
        }
      }),
    );
    // After a failure the publisher sends all of them again: each durable's progress must outlive this call.
    for (const { envelope, state, durables } of tracked) {
      if (failures.length === 0 && durables.every((durable) => state.get(durable) === 'done')) this.deliveries.delete(envelope.id);
      else this.deliveries.set(envelope.id, state);
    }
    if (failures.length > 0) {
      const what = envelopes.length === 1 ? `event ${envelopes[0].id}` : `a batch of ${envelopes.length} events`;
      throw new AggregateError(failures, `${failures.length} subscriber(s) failed to handle ${what}`);
    }
  }

  /**
   * Counts a failed delivery of `chunk` to `subscriber`; true if some of its events will be
   * delivered again, false if every one of them reached `maxDeliver` (given up, logged).
   */
  private countFailure(subscriber: Subscriber, chunk: readonly Pending[], error: unknown): boolean {
    let retried = false;
    for (const { envelope, state } of chunk) {
      const attempts = ((state.get(subscriber.durable) as number | undefined) ?? 0) + 1;
      const fields = { durable: subscriber.durable, eventId: envelope.id, subject: envelope.subject, deliveries: attempts, err: error };
      if (attempts >= this.maxDeliver) {
        this.logger.error(fields, 'event handler failed on every delivery; giving up on this event');
        state.set(subscriber.durable, 'done');
      } else {
        this.logger.warn(fields, 'event handler failed; the event will be delivered again');
        state.set(subscriber.durable, attempts);
        retried = true;
      }
    }
    return retried;
  }

  async subscribe(options: SubscribeOptions): Promise<EventSubscription> {
    if (this.closed) throw new Error('the in-process event bus is closed');
    checkDurableName(options.durable);
    checkSubject(options.subject, { wildcards: true });
    const subscriber: Subscriber = { durable: options.durable, subject: options.subject, handler: options.handler, batch: options.batch, running: new Set() };
    this.subscribers.push(subscriber);
    return {
      stop: async () => {
        const index = this.subscribers.indexOf(subscriber);
        if (index >= 0) this.subscribers.splice(index, 1);
        await Promise.allSettled(subscriber.running);
      },
    };
  }

  /** Every watch is a durable of its own, so it gets every event; there is no history to replay. */
  watch(options: WatchOptions): Promise<EventSubscription> {
    this.watches += 1;
    return this.subscribe({
      durable: `watch-${this.watches}`,
      subject: options.subject,
      handler: async (envelope) => {
        try {
          await options.handler(envelope);
        } catch (error) {
          this.logger.error({ subject: envelope.subject, eventId: envelope.id, err: error }, 'event watcher failed; it skips this event');
        }
      },
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.release();
    const all = this.subscribers.splice(0);
    await Promise.allSettled(all.flatMap((subscriber) => [...subscriber.running]));
  }

  private async deliver(subscriber: Subscriber, envelopes: EventEnvelope[]): Promise<void> {
    const handling = subscriber.batch ? subscriber.batch.handler(envelopes) : (subscriber.handler as EventHandler)(envelopes[0]);
    subscriber.running.add(handling);
    try {
      await handling;
    } finally {
      subscriber.running.delete(handling);
    }
  }

  private pickOnePerDurable(subject: string): Subscriber[] {
    const byDurable = new Map<string, Subscriber[]>();
    for (const subscriber of this.subscribers) {
      if (!subjectMatches(subscriber.subject, subject)) continue;
      byDurable.set(subscriber.durable, [...(byDurable.get(subscriber.durable) ?? []), subscriber]);
    }
    return [...byDurable].map(([durable, candidates]) => {
      const turn = this.turns.get(durable) ?? 0;
      this.turns.set(durable, turn + 1);
      return candidates[turn % candidates.length];
    });
  }
}
