import type { EventEnvelope } from '@trellis/proto';

/**
 * Handles one delivered event. Resolving acknowledges it; throwing (or rejecting) asks for it to
 * be delivered again later. Delivery is at-least-once: a handler may see the same event id more
 * than once and must act on it once (see `subscribeIdempotent`).
 */
export type EventHandler = (envelope: EventEnvelope) => Promise<void>;

/**
 * Handles a batch of delivered events at once, in stream order. Resolving acknowledges every one
 * of them; throwing asks for all of them to be delivered again later. At-least-once, as
 * {@link EventHandler}.
 */
export type EventBatchHandler = (envelopes: readonly EventEnvelope[]) => Promise<void>;

/**
 * How a batched subscription gathers its deliveries: up to `maxEvents` at once, the batch going
 * at most `lingerMs` after its first event arrived (sooner when full). A subscription's batches are
 * handled one at a time.
 */
export interface SubscribeBatch {
  /** Most events a batch holds. */
  maxEvents: number;
  /** Longest wait, after a batch's first event, for more to fill it. */
  lingerMs: number;
  handler: EventBatchHandler;
}

interface SubscribeTarget {
  /**
   * The durable consumer's name (letters, digits, `-`, `_`), unique per consuming purpose, e.g.
   * `monitoring-run-finished`. It survives restarts; processes that subscribe with the same name
   * share its events, each event going to one of them.
   */
  durable: string;
  /** The subject to receive, with NATS wildcards: `*` one token, `>` one or more trailing tokens. */
  subject: string;
}

/**
 * A durable subscription request: events one at a time (`handler`), or in batches (`batch`).
 */
export type SubscribeOptions = SubscribeTarget &
  (
    | {
        handler: EventHandler;
        batch?: undefined;
        /**
         * How many events the handler may be given at once. Default 1: one after another, in stream
         * order. Above 1 (JetStream only; in-process delivery is always one at a time) order is lost,
         * which suits handlers that batch work, such as an append-only log committing in groups.
         */
        concurrency?: number;
      }
    | {
        handler?: undefined;
        /**
         * Batched delivery: JetStream keeps `maxEvents` deliveries in flight and gathers them (see
         * {@link SubscribeBatch}); the in-process bus hands each `publishBatch` over in batches of
         * up to `maxEvents`, and each `publish` as a batch of one, without waiting.
         */
        batch: SubscribeBatch;
        concurrency?: undefined;
      }
  );

/** A watch request: see {@link EventBus.watch}. */
export interface WatchOptions {
  /** The subject to receive, with NATS wildcards. */
  subject: string;
  /**
   * Receive the events published from this time on. JetStream replays those it still holds;
   * in-process delivery keeps no history, so there a watch starts with the next event.
   */
  since: Date;
  /** Called once per event, in stream order. An error is logged and the event is not delivered again. */
  handler: (envelope: EventEnvelope) => void | Promise<void>;
}

/** What one durable consumer has yet to handle. */
export interface ConsumerBacklog {
  /** The durable consumer's name. */
  consumer: string;
  /** The subject it receives, as subscribed (wildcards kept, no prefix). */
  subject: string;
  /** Events not yet delivered to it, and those delivered but not yet acknowledged. */
  pending: number;
}

/** A running subscription. */
export interface EventSubscription {
  /** Stops receiving; resolves once handlers already running have finished. */
  stop(): Promise<void>;
}

/**
 * Where the outbox relay sends events and where consumers receive them: NATS JetStream in
 * distributed mode (`JetStreamBus`), in-process delivery in standalone mode (`InProcessBus`).
 */
export interface EventBus {
  /**
   * Hands one event to the bus. Resolves only once the bus has taken responsibility for it
   * (stored by JetStream, or handled by every in-process subscriber); rejects otherwise, and the
   * caller publishes it again later with the same id.
   */
  publish(envelope: EventEnvelope): Promise<void>;
  /**
   * Hands several events to the bus at once, for throughput (the `BatchPublisher`), in order.
   * Resolves once the bus has taken the batch, which may promise less than `publish` does for each
   * event (JetStream: see `JetStreamBus.publishBatch`); rejects if it did not (some may have been
   * taken: publish the whole batch again, and the bus drops the copies it holds by event id). A bus
   * without it gets the events one `publish` at a time.
   */
  publishBatch?(envelopes: readonly EventEnvelope[]): Promise<void>;
  /**
   * How long after a consumer first handled an event the bus may still deliver that event to it
   * again, in ms (Infinity for ever): the inbox keeps its records at least this long, and prunes
   * older ones. A bus that leaves it out never has its inboxes pruned.
   */
  readonly redeliveryWindowMs?: number;
  /** Starts a durable subscription; see {@link SubscribeOptions}. */
  subscribe(options: SubscribeOptions): Promise<EventSubscription>;
  /**
   * Starts a watch: unlike a durable subscription, every process that watches receives every
   * matching event; nothing is acknowledged and nothing outlives the process. For state each
   * process keeps in memory (a deny list), rebuilt from `since` when the process starts. Across
   * a lost NATS connection the watch resumes after the last event it received.
   */
  watch(options: WatchOptions): Promise<EventSubscription>;
  /** Stops every subscription, waits for running handlers, and releases connections. */
  close(): Promise<void>;
  /**
   * Whether the bus reaches its broker now, for `/readyz`. A bus without a broker (in-process
   * delivery) leaves it out: it is always connected.
   */
  isConnected?(): boolean;
  /**
   * Calls `listener` each time a lost broker connection is restored, so work waiting on the broker
   * (the outbox relay's retry) resumes at once; returns what removes the listener.
   */
  onReconnect?(listener: () => void): () => void;
  /**
   * The backlog of each durable consumer this process subscribes, asked of the broker (one
   * question per consumer); rejects when the broker cannot answer. A bus without one leaves it
   * out: in-process delivery keeps no backlog of its own, since `publish` resolves only once every
   * subscriber has handled the event, so events that wait for a subscriber wait in the outbox.
   */
  consumerBacklog?(): Promise<ConsumerBacklog[]>;
}
