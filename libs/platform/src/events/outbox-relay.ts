import type { DataSource } from 'typeorm';
import type { Metrics } from '../ops/metrics';
import { silentLogger, type KitLogger } from '../persistence/logger';
import type { EventBus } from './event-bus';
import { InboxPruner, inboxRetentionMs, type InboxPrunerOptions } from './inbox-pruner';
import { reportOutboxBacklog } from './outbox-backlog';
import { outboxStoreFor, type OutboxStore } from './outbox-store';

/** What an {@link OutboxRelay} is doing about failures, for `/readyz`. */
export interface RelayFailure {
  /** When the first failure of the current run of failures happened. */
  since: Date;
  /** Why the last pass could not deliver (the bus's or the database's error message). */
  reason: string;
}

/** How an {@link OutboxRelay} runs. */
export interface OutboxRelayOptions {
  /** The service's DataSource (from `openDatabase`), whose outbox the relay drains. */
  dataSource: DataSource;
  /** Where events go. */
  bus: EventBus;
  /** Most rows read per pass. Default 100. */
  batchSize?: number;
  /** How often the outbox is checked when nothing wakes the relay. Default 1000 ms. */
  pollIntervalMs?: number;
  /** First wait after the bus refuses an event; doubles per failure in a row. Default 100 ms. */
  retryInitialMs?: number;
  /** Longest wait between retries. Default 5000 ms; a restored bus connection ends a wait at once. */
  retryMaxMs?: number;
  /**
   * The relay also prunes the inbox of its database (an {@link InboxPruner}, keeping records for
   * `inboxRetentionMs(bus)`), since a relay already runs once per service database. On by default
   * when the bus states its redelivery window; `false` turns it off.
   */
  inboxPruning?: false | Pick<InboxPrunerOptions, 'batchSize' | 'intervalMs' | 'now'>;
  /**
   * While the relay runs, `trellis_outbox_pending_events{service}` and
   * `trellis_outbox_oldest_pending_seconds{service}` on `metrics` report its outbox's backlog,
   * read when scraped (see `readOutboxBacklog`).
   */
  backlogMetrics?: { metrics: Metrics; service: string };
  logger?: KitLogger;
}

/**
 * Delivers the outbox: reads committed rows in insertion order, hands each to the bus as an
 * `EventEnvelope`, and deletes a row only after the bus has accepted it. A crash between the two
 * means the row is published again with the same event id, which JetStream (by `Nats-Msg-Id`) and
 * `subscribeIdempotent` (by its inbox) turn into a single effect; nothing is ever lost. The
 * relay's deletes commit without waiting for the disk (the inserts wait, with the caller's change),
 * so a power loss or a database server crash may also send again the events that were still in
 * the outbox at the last synced commit; a killed process does not.
 *
 * When the bus refuses an event the relay keeps that row and the ones after it, waits (exponential
 * backoff, at most `retryMaxMs`), and tries again; a commit notification does not cut the wait
 * short, but the bus regaining its broker connection does (`EventBus.onReconnect`). On PostgreSQL
 * any number of relays may drain one database; on SQLite run one per database. Stop the relay
 * before destroying its DataSource.
 *
 * The relay also prunes its database's inbox while it runs (see `inboxPruning`), and reports its
 * outbox's backlog on `/metrics` (see `backlogMetrics`).
 */
export class OutboxRelay {
  private readonly store: OutboxStore;
  private readonly bus: EventBus;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: KitLogger;
  private readonly pruner?: InboxPruner;
  private readonly reportBacklog?: () => () => void;
  private stopReportingBacklog?: () => void;
  private loop?: Promise<void>;
  private running = false;
  private notified = false;
  private wake?: () => void;
  private wakeOnNotify = false;
  private reconnected = false;
  private stopWatchingBus?: () => void;
  private failure?: RelayFailure;

  constructor(options: OutboxRelayOptions) {
    this.store = outboxStoreFor(options.dataSource);
    this.bus = options.bus;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.retryInitialMs = options.retryInitialMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.logger = options.logger ?? silentLogger;
    const backlog = options.backlogMetrics;
    if (backlog) this.reportBacklog = () => reportOutboxBacklog(backlog.metrics, backlog.service, options.dataSource);
    const retentionMs = inboxRetentionMs(options.bus);
    if (options.inboxPruning !== false && retentionMs !== undefined) {
      this.pruner = new InboxPruner({ ...options.inboxPruning, dataSource: options.dataSource, retentionMs, logger: this.logger });
    }
  }

  /** Starts draining in the background. Calling it again while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopWatchingBus = this.bus.onReconnect?.(() => {
      this.reconnected = true;
      this.wake?.();
    });
    this.loop = this.run();
    this.pruner?.start();
    this.stopReportingBacklog = this.reportBacklog?.();
  }

  /** Says that events were committed: the relay looks at the outbox now instead of at its next poll. */
  notify(): void {
    this.notified = true;
    if (this.wakeOnNotify) this.wake?.();
  }

  /** Set while the relay is retrying after a failed pass: events wait in the outbox meanwhile. */
  get failing(): RelayFailure | undefined {
    return this.failure;
  }

  /** Stops the relay once the batch in flight (if any) is published and recorded, and the inbox pruning with it. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopWatchingBus?.();
    this.stopWatchingBus = undefined;
    this.stopReportingBacklog?.();
    this.stopReportingBacklog = undefined;
    this.wake?.();
    await Promise.all([this.loop, this.pruner?.stop()]);
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let retryInMs = this.retryInitialMs;
    while (this.running) {
      this.notified = false;
      this.reconnected = false;
      const { published, drained, failure } = await this.pass();
      if (published > 0) this.logger.debug({ published }, 'outbox events published');
      if (failure) {
        failures += 1;
        this.failure = { since: this.failure?.since ?? new Date(), reason: failure.error instanceof Error ? failure.error.message : String(failure.error) };
        this.logger.warn(
          { err: failure.error, eventId: failure.eventId, failures, retryInMs },
          failure.eventId ? 'event bus did not take an outbox event; will retry' : 'reading the outbox failed; will retry',
        );
        await this.pause(retryInMs, false);
        // A restored connection starts the back-off afresh: what fails next is a new problem.
        retryInMs = this.reconnected ? this.retryInitialMs : Math.min(retryInMs * 2, this.retryMaxMs);
        continue;
      }
      if (failures > 0) this.logger.info({ failures }, 'outbox relay recovered');
      failures = 0;
      retryInMs = this.retryInitialMs;
      this.failure = undefined;
      if (!drained || this.notified) continue;
      await this.pause(this.pollIntervalMs, true);
    }
  }

  private async pass(): Promise<{ published: number; drained: boolean; failure?: { eventId?: string; error: unknown } }> {
    try {
      const batch = await this.store.relayBatch(this.batchSize, (envelope) => this.bus.publish(envelope));
      return { published: batch.published, drained: batch.read < this.batchSize, failure: batch.failure };
    } catch (error) {
      return { published: 0, drained: true, failure: { error } };
    }
  }

  private pause(ms: number, wakeOnNotify: boolean): Promise<void> {
    if (!this.running || this.reconnected || (wakeOnNotify && this.notified)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wakeOnNotify = wakeOnNotify;
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
