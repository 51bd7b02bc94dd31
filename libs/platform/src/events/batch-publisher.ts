import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { Metrics } from '../ops/metrics';
import { silentLogger, type KitLogger } from '../persistence/logger';
import type { EventBus } from './event-bus';
import type { EventCatalog, EventContext, EventMessage, EventSubject, EventTable } from './event-catalog';

/**
 * What `publish` does when the buffer is full: `wait` for room (back-pressure on the producer), or
 * `drop` the event (a declared lossy stream: the producer never slows down).
 */
export type BufferFullPolicy = 'wait' | 'drop';

/** How a {@link BatchPublisher} buffers and sends. */
export interface BatchPublisherOptions<T extends EventTable> {
  bus: EventBus;
  /** The subjects it may publish and their messages. */
  events: EventCatalog<T>;
  /** Most events held at once, waiting or being sent: the bound on its memory. Default 10,000. */
  bufferSize?: number;
  /** Most events handed to the bus at once. Default 256. */
  batchSize?: number;
  /** How long a batch that is not full waits for more events before it goes. Default 5 ms. */
  lingerMs?: number;
  /** Default `wait`. */
  whenFull?: BufferFullPolicy;
  /** First wait after the bus refused a batch; doubles per refusal in a row. Default 100 ms. */
  retryInitialMs?: number;
  /** Longest wait between retries. Default 5000 ms. */
  retryMaxMs?: number;
  /** Where dropped events are counted (`trellis_events_dropped_total`, by subject). */
  metrics?: Metrics;
  logger?: KitLogger;
}

/** An event taken by `offer`: its message is built, checked and encoded when its batch is sent. */
interface Offered {
  subject: string;
  build: () => unknown;
  context: EventContext;
  offeredAt: number;
}

interface Waiting {
  envelope: EventEnvelope;
  admitted: (buffered: boolean) => void;
}

type Nap = 'idle' | 'linger' | 'retry';

/**
 * Publishes high-volume, loss-tolerant events (prediction logs) straight to the bus in batches,
 * WITHOUT the transactional outbox: an event is not tied to any database change and MAY BE LOST,
 * by design, when the buffer is full in `drop` mode, or when the process stops (or `close` finds
 * the bus refusing) with events still buffered. Every lost event is counted in `metrics`. Use the
 * `Outbox` for events that must never be lost.
 *
 * Events go out in the order they were published or offered, one batch at a time; a batch the
 * bus refuses is sent again (the same event ids, so JetStream drops copies it already holds) after
 * a growing wait, while the buffer fills and `publish` waits or drops (`offer` drops).
 */
export class BatchPublisher<T extends EventTable> {
  private readonly bus: EventBus;
  private readonly events: EventCatalog<T>;
  private readonly bufferSize: number;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly whenFull: BufferFullPolicy;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly metrics?: Metrics;
  private readonly logger: KitLogger;
  private readonly buffer: Array<EventEnvelope | Offered> = [];
  private readonly waiting: Waiting[] = [];
  private readonly flushes: Array<{ upTo: number; done: () => void }> = [];
  private buffered = 0;
  private settled = 0;
  private closing = false;
  private nap?: { kind: Nap; wake: () => void };
  private readonly loop: Promise<void>;

  constructor(options: BatchPublisherOptions<T>) {
    this.bus = options.bus;
    this.events = options.events;
    this.bufferSize = options.bufferSize ?? 10_000;
    this.batchSize = Math.min(options.batchSize ?? 256, this.bufferSize);
    this.lingerMs = options.lingerMs ?? 5;
    this.whenFull = options.whenFull ?? 'wait';
    this.retryInitialMs = options.retryInitialMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.metrics = options.metrics;
    this.logger = options.logger ?? silentLogger;
    this.loop = this.run();
  }

  /**
   * Buffers one event for the next batch. Resolves true once it is buffered (not yet published),
   * or false if it was dropped: in `drop` mode when the buffer is full, in `wait` mode if the
   * publisher closed while it waited and the bus refused the rest.
   *
   * @throws if `message` is not the subject's message in the catalog, or after `close`.
   */
  publish<S extends EventSubject<T>>(subject: S, message: EventMessage<T, S>, context: EventContext = {}): Promise<boolean> {
    const envelope = this.envelope(subject, message, context, Date.now());
    if (this.closing) throw new Error('the batch publisher is closed');
    if (this.hasRoom()) {
      this.enqueue(envelope);
      return Promise.resolve(true);
    }
    if (this.whenFull === 'drop') {
      this.countDropped([envelope]);
      return Promise.resolve(false);
    }
    return new Promise((admitted) => this.waiting.push({ envelope, admitted }));
  }

  /**
   * Takes one event whose message `build` makes later, off the caller's path: when its batch is
   * sent, where it is also checked and encoded. Never waits and never throws, whatever `whenFull`:
   * returns false, the event dropped and counted, when the buffer is full or the publisher closed;
   * else true. For a lossy stream whose messages cost more to build than to drop (prediction logs):
   * when the bus is behind, dropping costs the caller nothing. A `build` that throws, or makes a
   * message that is not the subject's, loses that event (logged and counted). `build` must not
   * rely on data the caller changes after this call; the event time is that of this call.
   */
  offer<S extends EventSubject<T>>(subject: S, build: () => EventMessage<T, S>, context: EventContext = {}): boolean {
    if (this.closing || !this.hasRoom()) {
      this.countDropped([{ subject }]);
      return false;
    }
    this.enqueue({ subject, build, context, offeredAt: Date.now() });
    return true;
  }

  /** Resolves once every event buffered before this call has been published (or dropped). */
  flush(): Promise<void> {
    const upTo = this.buffered;
    if (this.settled >= upTo) return Promise.resolve();
    return new Promise((done) => {
      this.flushes.push({ upTo, done });
      if (this.nap?.kind === 'linger') this.nap.wake();
    });
  }

  /**
   * Refuses new events, publishes those buffered or waiting (one try each; what the bus refuses
   * then is dropped and counted), and resolves when done. The bus stays open.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.nap?.wake();
    await this.loop;
  }

  private hasRoom(): boolean {
    return this.buffer.length < this.bufferSize && this.waiting.length === 0;
  }

  /** The envelope of `message`, checked against the catalog and encoded; throws if it is not the subject's. */
  private envelope(subject: string, message: unknown, context: EventContext, timeMs: number): EventEnvelope {
    const schema = this.events.checked(subject as EventSubject<T>, message as EventMessage<T, EventSubject<T>>);
    return create(EventEnvelopeSchema, {
      id: randomUUID(),
      subject,
      payloadType: schema.typeName,
      payload: toBinary(schema, message as EventMessage<T, EventSubject<T>>),
      eventTime: timestampFromMs(timeMs),
      projectId: context.projectId ?? '',
      actor: context.actor ?? '',
      requestId: context.requestId ?? '',
    });
  }

  private enqueue(entry: EventEnvelope | Offered): void {
    this.buffer.push(entry);
    this.buffered += 1;
    const napping = this.nap?.kind;
    if (napping === 'idle' || (napping === 'linger' && this.buffer.length >= this.batchSize)) this.nap?.wake();
  }

  private async run(): Promise<void> {
    let retryInMs = this.retryInitialMs;
    for (;;) {
      if (this.buffer.length === 0) {
        if (this.closing) return;
        await this.sleep('idle');
        continue;
      }
      if (this.buffer.length < this.batchSize && !this.closing && this.flushes.length === 0) await this.sleep('linger', this.lingerMs);
      const batch = this.built(this.batchSize);
      if (batch.length === 0) {
        this.settle(0);
        continue;
      }
      const { sent, error } = await this.send(batch);
      this.settle(sent);
      if (error === undefined) {
        retryInMs = this.retryInitialMs;
        continue;
      }
      if (this.closing) {
        this.logger.warn({ err: error, dropped: this.buffer.length + this.waiting.length }, 'event bus refused the last batched events at close; dropping them');
        this.dropEverything();
        return;
      }
      this.logger.warn({ err: error, retryInMs, buffered: this.buffer.length }, 'event bus refused a batch of events; will retry');
      await this.sleep('retry', retryInMs);
      retryInMs = Math.min(retryInMs * 2, this.retryMaxMs);
    }
  }

  /**
   * The first `count` events of the buffer as envelopes, building the offered ones in place (so a
   * retry sends the same ids); one whose build fails is dropped, counted and settled.
   */
  private built(count: number): EventEnvelope[] {
    const batch: EventEnvelope[] = [];
    let index = 0;
    while (batch.length < count && index < this.buffer.length) {
      const entry = this.buffer[index];
      if (!('build' in entry)) {
        batch.push(entry);
        index += 1;
        continue;
      }
      try {
        const envelope = this.envelope(entry.subject, entry.build(), entry.context, entry.offeredAt);
        this.buffer[index] = envelope;
        batch.push(envelope);
        index += 1;
      } catch (error) {
        this.logger.warn({ err: error, subject: entry.subject }, 'building an offered event failed; dropping it');
        this.countDropped([entry]);
        this.buffer.splice(index, 1);
        this.settled += 1;
      }
    }
    return batch;
  }

  /** Hands `batch` to the bus; `sent` counts the leading events it took, so they are not sent again. */
  private async send(batch: EventEnvelope[]): Promise<{ sent: number; error?: unknown }> {
    if (this.bus.publishBatch) {
      try {
        await this.bus.publishBatch(batch);
        return { sent: batch.length };
      } catch (error) {
        return { sent: 0, error: error ?? new Error('the event bus refused the batch') };
      }
    }
    for (let index = 0; index < batch.length; index++) {
      try {
        await this.bus.publish(batch[index]);
      } catch (error) {
        return { sent: index, error: error ?? new Error('the event bus refused an event') };
      }
    }
    return { sent: batch.length };
  }

  /** Removes `count` published (or dropped) events from the buffer, admits waiting ones, and ends finished flushes. */
  private settle(count: number): void {
    if (count > 0) {
      this.buffer.splice(0, count);
      this.settled += count;
    }
    while (this.waiting.length > 0 && this.buffer.length < this.bufferSize) {
      const next = this.waiting.shift() as Waiting;
      this.enqueue(next.envelope);
      next.admitted(true);
    }
    for (let index = this.flushes.length - 1; index >= 0; index--) {
      if (this.flushes[index].upTo <= this.settled) this.flushes.splice(index, 1)[0].done();
    }
  }

  private dropEverything(): void {
    const waiting = this.waiting.splice(0);
    this.countDropped([...this.buffer, ...waiting.map((each) => each.envelope)]);
    for (const each of waiting) each.admitted(false);
    this.settle(this.buffer.length);
  }

  private countDropped(events: ReadonlyArray<{ subject: string }>): void {
    if (!this.metrics) return;
    const bySubject = new Map<string, number>();
    for (const { subject } of events) bySubject.set(subject, (bySubject.get(subject) ?? 0) + 1);
    for (const [subject, count] of bySubject) this.metrics.eventsDropped.inc({ subject }, count);
  }

  private sleep(kind: Nap, ms?: number): Promise<void> {
    if (this.closing && kind !== 'idle') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.nap?.wake(), ms);
      this.nap = {
        kind,
        wake: () => {
          clearTimeout(timer);
          this.nap = undefined;
          resolve();
        },
      };
    });
  }
}
