import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers,
  millis,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConnectionOptions,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type KitLogger } from '../persistence/logger';
import type { ConsumerBacklog, EventBus, EventHandler, EventSubscription, SubscribeOptions, WatchOptions } from './event-bus';
import { DeliveryBatcher } from './delivery-batcher';
import { checkDurableName, checkSubject } from './subject-match';

/** Where and how a {@link JetStreamBus} talks to NATS. */
export interface JetStreamBusOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** The stream holding Trellis events. Default `TRELLIS`. */
  stream?: string;
  /**
   * Prepended (with a dot) to every subject on the wire, so that several installations or test
   * runs can share a NATS server. Default none: the stream captures `trellis.>`. Envelopes and
   * handlers always see the unprefixed subject.
   */
  subjectPrefix?: string;
  /** How long JetStream remembers an event id to drop a republished copy. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** How long the stream keeps events. Default 7 days. */
  maxAgeMs?: number;
  /** Deliveries of one event to one durable before it is given up (and logged). Default 10. */
  maxDeliver?: number;
  /** How long a delivered event may go unacknowledged before it is redelivered. Default 30 s. */
  ackWaitMs?: number;
  /** Delay before the first redelivery after a handler failed; doubles per delivery, up to 1 minute. Default 1 s. */
  redeliveryDelayMs?: number;
  /** How long `publish` waits for JetStream's acknowledgement. Default 5 s. */
  publishTimeoutMs?: number;
  /** Further nats.js connection options (credentials, TLS, reconnect timing). Reconnection is on by default, forever. */
  connection?: Omit<ConnectionOptions, 'servers'>;
  logger?: KitLogger;
}

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const CLOSE_FLUSH_TIMEOUT_MS = 1000;
const CONSUMER_NOT_FOUND = 10014;
/** The longest delay `handle` asks before redelivering an event whose handler failed. */
const MAX_REDELIVERY_DELAY_MS = 60_000;
/** nats-server's default limit on a consumer's delivered but unacknowledged events. */
const DEFAULT_MAX_ACK_PENDING = 1000;

/**
 * The event bus of distributed mode: NATS JetStream.
 *
 * - `publish` stores the binary `EventEnvelope` in the stream with the event id as `Nats-Msg-Id`,
 *   so a copy published again within the duplicate window is dropped by JetStream; it resolves
 *   once JetStream has acknowledged storing the event (or recognised a duplicate).
 * - `publishBatch` waits for one acknowledgement a batch (for the `BatchPublisher`);
 *   `redeliveryWindowMs` says how long inboxes must remember an event.
 * - `subscribe` creates (or updates) a durable pull consumer with explicit acks. An event is acked
 *   after its handler resolves, and negatively acked with a growing delay when it throws; after
 *   `maxDeliver` deliveries it is terminated with an error log line. A new durable starts from the
 *   oldest event the stream still holds.
 * - While NATS is unreachable the connection keeps reconnecting; `publish` rejects (after
 *   `publishTimeoutMs`) so the outbox relay retries later, and consumers resume on reconnection.
 *   `isConnected` says which, and `onReconnect` listeners (the relay) are called when it is back.
 *   `connect` and `subscribe` reject if NATS cannot be reached when they are called.
 * - Each subscription handles its events one at a time, in stream order, unless it asks for
 *   `concurrency`. A batched one keeps `maxEvents` deliveries in flight, gathers them into batches
 *   in stream-sequence order, and acks (or naks) each event once its batch handler resolved (or threw).
 *   The consumer's `max_ack_pending` is raised to three times the deliveries a process keeps in
 *   flight (its handlers' and its pull buffer's), so that batches fill, with a replica or two beside it.
 * - `watch` reads through an ordered consumer of its own (ephemeral, unacknowledged, in memory on
 *   the server), which starts at `since` and, after a lost connection, resumes where it stopped.
 */
export class JetStreamBus implements EventBus {
  private readonly stream: string;
  private readonly prefix: string;
  private readonly maxDeliver: number;
  private readonly ackWaitMs: number;
  private readonly redeliveryDelayMs: number;
  private readonly publishTimeoutMs: number;
  private readonly logger: KitLogger;
  private readonly subscriptions = new Set<EventSubscription>();
  /** The durable consumer of each running subscription, and the subject it was asked for. */
  private readonly consumers = new Map<EventSubscription, { durable: string; subject: string }>();
  private readonly reconnectListeners = new Set<() => void>();
  private connected = true;
  private streamLimits = { maxAgeMs: 0, duplicateWindowMs: 0 };

  private constructor(
    private readonly connection: NatsConnection,
    private readonly manager: JetStreamManager,
    private readonly client: JetStreamClient,
    options: JetStreamBusOptions,
  ) {
    this.stream = options.stream ?? 'TRELLIS';
    this.prefix = options.subjectPrefix ? `${options.subjectPrefix}.` : '';
    this.maxDeliver = options.maxDeliver ?? 10;
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 1000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Connects to NATS and creates the stream if it does not exist yet (adding the Trellis subjects
   * to it if it exists without them). Rejects if NATS cannot be reached now; once connected, the
   * bus reconnects by itself.
   */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    if (options.subjectPrefix !== undefined) checkSubject(options.subjectPrefix, { wildcards: false });
    const connection = await connect({
      reconnect: true,
      maxReconnectAttempts: -1,
      name: 'trellis',
      ...options.connection,
      servers: options.servers,
    });
    try {
      const manager = await connection.jetstreamManager();
      const bus = new JetStreamBus(connection, manager, connection.jetstream(), options);
      await bus.ensureStream(options);
      bus.watchConnection();
      return bus;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  async publish(envelope: EventEnvelope): Promise<void> {
    const ack = await this.client.publish(this.prefix + envelope.subject, toBinary(EventEnvelopeSchema, envelope), {
      msgID: envelope.id,
      expect: { streamName: this.stream },
      timeout: this.publishTimeoutMs,
    });
    if (ack.duplicate) this.logger.debug({ eventId: envelope.id, seq: ack.seq }, 'JetStream already held this event');
  }

  /**
   * Publishes all but the last event without asking for an acknowledgement, then the last one with
   * one: NATS processes a connection's messages in order, so JetStream's acknowledgement of the
   * last says it has had every one before it, at the cost of one round trip a batch instead of one
   * an event. An earlier event JetStream refuses on its own (stream limits) is lost unnoticed,
   * which suits the lossy streams batches are for. Each carries its id as `Nats-Msg-Id`, so a batch
   * published again stores no event twice.
   */
  async publishBatch(envelopes: readonly EventEnvelope[]): Promise<void> {
    const last = envelopes.length - 1;
    for (let index = 0; index < last; index++) {
      const envelope = envelopes[index];
      const header = headers();
      header.set('Nats-Msg-Id', envelope.id);
      header.set('Nats-Expected-Stream', this.stream);
      this.connection.publish(this.prefix + envelope.subject, toBinary(EventEnvelopeSchema, envelope), { headers: header });
    }
    if (last >= 0) await this.publish(envelopes[last]);
  }

  /**
   * The longest of: the stream's max age (a durable consumer created again, say by an operator,
   * replays every event the stream still holds, and an event is stored before anyone handles it),
   * its duplicate window (a relay's republished copy is dropped only within it), and `maxDeliver`
   * deliveries each left unacknowledged for `ackWaitMs` plus the longest redelivery delay. Read
   * from the stream as it exists, which may predate this process's options; Infinity when the
   * stream keeps events for ever.
   */
  get redeliveryWindowMs(): number {
    const { maxAgeMs, duplicateWindowMs } = this.streamLimits;
    if (maxAgeMs === 0) return Infinity;
    return Math.max(maxAgeMs, duplicateWindowMs, this.maxDeliver * (this.ackWaitMs + MAX_REDELIVERY_DELAY_MS));
  }

  async subscribe(options: SubscribeOptions): Promise<EventSubscription> {
    checkDurableName(options.durable);
    checkSubject(options.subject, { wildcards: true });
    const concurrency = options.batch ? options.batch.maxEvents : (options.concurrency ?? 1);
    await this.ensureConsumer(options.durable, this.prefix + options.subject, 3 * concurrency);
    const consumer = await this.client.consumers.get(this.stream, options.durable);
    const messages = await consumer.consume({ max_messages: Math.max(16, 2 * concurrency) });
    const batch = options.batch;
    const batcher =
      batch &&
      new DeliveryBatcher({
        ...batch,
        handler: async (envelopes) => {
          try {
            await batch.handler(envelopes);
          } catch (error) {
            this.logger.warn({ durable: options.durable, events: envelopes.length, err: error }, 'event batch handler failed; its events will be delivered again');
            throw error;
          }
        },
      });
    const single = options.handler;
    const delivery: Delivery = {
      durable: options.durable,
      concurrency,
      batched: batcher !== undefined,
      handler: batcher ? (envelope, message) => batcher.add(envelope, message.seq) : (envelope) => (single as EventHandler)(envelope),
    };
    let stopping = false;
    const loop = this.consume(messages, delivery, () => stopping);
    const subscription: EventSubscription = {
      stop: async () => {
        stopping = true;
        this.subscriptions.delete(subscription);
        this.consumers.delete(subscription);
        messages.stop();
        // What is gathered goes now rather than after its linger.
        batcher?.flush();
        await loop;
      },
    };
    this.subscriptions.add(subscription);
    this.consumers.set(subscription, { durable: options.durable, subject: options.subject });
    return subscription;
  }

  async watch(options: WatchOptions): Promise<EventSubscription> {
    checkSubject(options.subject, { wildcards: true });
    const consumer = await this.client.consumers.get(this.stream, {
      filterSubjects: this.prefix + options.subject,
      opt_start_time: options.since.toISOString(),
    });
    const messages = await consumer.consume();
    const loop = this.follow(messages, options);
    const subscription: EventSubscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        messages.stop();
        await loop;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Asks JetStream about each durable consumer this bus subscribes (once per name): its `num_pending` plus `num_ack_pending`. */
  async consumerBacklog(): Promise<ConsumerBacklog[]> {
    // A question asked while NATS is out of reach would wait for its timeout to fail.
    if (!this.connected) throw new Error('NATS is out of reach');
    const subjects = new Map([...this.consumers.values()].map(({ durable, subject }) => [durable, subject]));
    return Promise.all(
      [...subjects].map(async ([consumer, subject]) => {
        const info = await this.manager.consumers.info(this.stream, consumer);
        return { consumer, subject, pending: info.num_pending + info.num_ack_pending };
      }),
    );
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    if (this.connection.isClosed()) return;
    // Send the last acks before closing, but do not wait on a server that is unreachable.
    await Promise.race([this.connection.flush().catch(() => undefined), sleep(CLOSE_FLUSH_TIMEOUT_MS)]);
    await this.connection.close();
  }

  private async consume(messages: ConsumerMessages, options: Delivery, stopping: () => boolean): Promise<void> {
    const limit = options.concurrency;
    const running = new Set<Promise<void>>();
    try {
      for await (const message of messages) {
        // Messages already fetched when the subscription stops go back for immediate redelivery.
        if (stopping()) {
          message.nak();
          continue;
        }
        const handled = this.handle(message, options).finally(() => running.delete(handled));
        running.add(handled);
        if (running.size >= limit) await Promise.race(running);
      }
    } catch (error) {
      this.logger.error({ durable: options.durable, err: error }, 'event subscription ended with an error');
    } finally {
      await Promise.all(running);
    }
  }

  private async follow(messages: ConsumerMessages, { subject, handler }: WatchOptions): Promise<void> {
    try {
      for await (const message of messages) {
        try {
          await handler(fromBinary(EventEnvelopeSchema, message.data));
        } catch (error) {
          this.logger.error({ subject: message.subject, seq: message.seq, err: error }, 'event watcher failed; it skips this event');
        }
      }
    } catch (error) {
      this.logger.error({ subject, err: error }, 'event watch ended with an error');
    }
  }

  private async handle(message: JsMsg, { durable, handler, batched }: Delivery): Promise<void> {
    let envelope: EventEnvelope;
    try {
      envelope = fromBinary(EventEnvelopeSchema, message.data);
    } catch (error) {
      this.logger.error({ durable, subject: message.subject, seq: message.seq, err: error }, 'not a trellis.events.v1.EventEnvelope; dropping it');
      message.term();
      return;
    }
    const keepAlive = setInterval(() => message.working(), Math.max(this.ackWaitMs / 2, 100));
    try {
      await handler(envelope, message);
      message.ack();
    } catch (error) {
      const deliveries = message.info.deliveryCount;
      const fields = { durable, eventId: envelope.id, subject: envelope.subject, deliveries, err: error };
      if (deliveries >= this.maxDeliver) {
        this.logger.error(fields, 'event handler failed on every delivery; giving up on this event');
        // No reason argument: NATS servers before 2.10.4 ignore a `+TERM <reason>` and keep the message pending.
        message.term();
      } else {
        const retryInMs = Math.min(this.redeliveryDelayMs * 2 ** (deliveries - 1), 60_000);
        // A failed batch says so once (see below), not once per event.
        if (batched) this.logger.debug({ ...fields, retryInMs }, 'event batch handler failed; the event will be delivered again');
        else this.logger.warn({ ...fields, retryInMs }, 'event handler failed; the event will be delivered again');
        message.nak(retryInMs);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async ensureStream(options: JetStreamBusOptions): Promise<void> {
    const subject = `${this.prefix}trellis.>`;
    const info = await this.manager.streams.info(this.stream).catch(unless(STREAM_NOT_FOUND));
    if (info) {
      if (!info.config.subjects?.includes(subject)) {
        await this.manager.streams.update(this.stream, { subjects: [...(info.config.subjects ?? []), subject] });
      }
      this.streamLimits = { maxAgeMs: millis(info.config.max_age), duplicateWindowMs: millis(info.config.duplicate_window) };
      return;
    }
    const created = await this.manager.streams
      .add({
        name: this.stream,
        subjects: [subject],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(options.maxAgeMs ?? 7 * 24 * 3600 * 1000),
        duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
      })
      .catch(unless(STREAM_NAME_IN_USE));
    // Another process created it first: read the limits it chose.
    const config = created?.config ?? (await this.manager.streams.info(this.stream)).config;
    this.streamLimits = { maxAgeMs: millis(config.max_age), duplicateWindowMs: millis(config.duplicate_window) };
    this.logger.info({ stream: this.stream, subject }, 'JetStream stream ready');
  }

  private async ensureConsumer(durable: string, filterSubject: string, ackPending: number): Promise<void> {
    const settings = {
      filter_subject: filterSubject,
      max_deliver: this.maxDeliver,
      ack_wait: nanos(this.ackWaitMs),
      max_ack_pending: Math.max(DEFAULT_MAX_ACK_PENDING, ackPending),
    };
    const info = await this.manager.consumers.info(this.stream, durable).catch(unless(CONSUMER_NOT_FOUND));
    if (!info) {
      await this.manager.consumers.add(this.stream, {
        ...settings,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      return;
    }
    const current = info.config;
    if (
      current.filter_subject !== filterSubject ||
      current.max_deliver !== this.maxDeliver ||
      current.ack_wait !== settings.ack_wait ||
      current.max_ack_pending !== settings.max_ack_pending
    ) {
      await this.manager.consumers.update(this.stream, durable, settings);
    }
  }

  private watchConnection(): void {
    void (async () => {
      for await (const status of this.connection.status()) {
        if (status.type === 'disconnect') {
          this.connected = false;
          this.logger.warn({ server: status.data }, 'NATS connection lost; reconnecting');
        } else if (status.type === 'reconnect') {
          this.connected = true;
          this.logger.info({ server: status.data }, 'NATS connection restored');
          for (const listener of this.reconnectListeners) listener();
        }
      }
    })();
  }
}

/** How a subscription's messages are handed over: one handler per message, or into a batcher. */
interface Delivery {
  durable: string;
  /** Most messages handled at once. */
  concurrency: number;
  batched: boolean;
  handler: (envelope: EventEnvelope, message: JsMsg) => Promise<void>;
}

/** A rejection handler that turns the JetStream API error `code` into `undefined` and rethrows anything else. */
function unless(code: number): (error: unknown) => undefined {
  return (error) => {
    if ((error as NatsError).api_error?.err_code !== code) throw error;
    return undefined;
  };
}
