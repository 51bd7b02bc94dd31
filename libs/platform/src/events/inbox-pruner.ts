import type { DataSource } from 'typeorm';
import { Dialect, tableOf } from '../persistence/dialect';
import { silentLogger, type KitLogger } from '../persistence/logger';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import { runOutsideTransactions } from '../persistence/sqlite-transactions';
import type { EventBus } from './event-bus';

/** Kept beyond the bus's redelivery window, for clocks of NATS and service hosts that disagree. */
export const INBOX_CLOCK_MARGIN_MS = 3600_000;

/**
 * How long the inbox must keep a record on `bus`: its redelivery window plus
 * {@link INBOX_CLOCK_MARGIN_MS}; undefined (keep for ever) if the bus does not state a finite window.
 */
export function inboxRetentionMs(bus: EventBus): number | undefined {
  const window = bus.redeliveryWindowMs;
  return window === undefined || !Number.isFinite(window) ? undefined : window + INBOX_CLOCK_MARGIN_MS;
}

/** How an {@link InboxPruner} prunes. */
export interface InboxPrunerOptions {
  /** The database whose inbox (processed-events table) is pruned. */
  dataSource: DataSource;
  /** Records processed longer ago than this go (see {@link inboxRetentionMs}). */
  retentionMs: number;
  /** Most rows one DELETE removes, so no statement holds locks or grows the WAL for long. Default 1000. */
  batchSize?: number;
  /** Time between prunes. Default 10 minutes. */
  intervalMs?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  logger?: KitLogger;
}

/**
 * Deletes inbox records older than the window in which the bus can still deliver their event
 * again, in bounded batches, once at start and then every `intervalMs`. Several processes may
 * prune one database at once: on PostgreSQL each skips the rows another is deleting.
 */
export class InboxPruner {
  private readonly dataSource: DataSource;
  private readonly retentionMs: number;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly logger: KitLogger;
  private timer?: NodeJS.Timeout;
  private pruning?: Promise<unknown>;
  private running = false;
  private stopping = false;

  constructor(options: InboxPrunerOptions) {
    this.dataSource = options.dataSource;
    this.retentionMs = options.retentionMs;
    this.batchSize = options.batchSize ?? 1000;
    this.intervalMs = options.intervalMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** Prunes now and then every `intervalMs` until {@link stop}. Calling it again while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.tick();
  }

  /** Stops pruning; resolves once a prune in progress has finished its current batch. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    clearTimeout(this.timer);
    await this.pruning;
  }

  /** Deletes every record older than the retention, batch by batch; resolves with how many went. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.now() - this.retentionMs);
    let total = 0;
    for (;;) {
      const deleted = await this.deleteBatch(cutoff);
      total += deleted;
      if (deleted < this.batchSize || this.stopping) return total;
    }
  }

  private tick(): void {
    this.pruning = this.prune()
      .then((deleted) => {
        if (deleted > 0) this.logger.debug({ deleted }, 'pruned the inbox');
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'pruning the inbox failed; will try again'))
      .finally(() => {
        if (this.running) this.timer = setTimeout(() => this.tick(), this.intervalMs);
      });
  }

  private async deleteBatch(cutoff: Date): Promise<number> {
    const dialect = Dialect.of(this.dataSource);
    const table = tableOf(this.dataSource, ProcessedEventEntity);
    const column = this.dataSource.getMetadata(ProcessedEventEntity).findColumnWithPropertyName('processedAt');
    if (!column) throw new Error('ProcessedEventEntity is not registered on this DataSource; open it with openDatabase');
    const parameters = dialect.parameters();
    const before = parameters.bind(this.dataSource.driver.preparePersistentValue(cutoff, column));
    const limit = parameters.bind(this.batchSize);
    // The inner SELECT bounds each statement; SKIP LOCKED lets concurrent pruners take different rows.
    const sql = `DELETE FROM ${table} WHERE (consumer, event_id) IN (
      SELECT consumer, event_id FROM ${table} WHERE processed_at < ${before} LIMIT ${limit}${dialect.isPostgres ? ' FOR UPDATE SKIP LOCKED' : ''})`;
    if (!dialect.isPostgres) {
      return runOutsideTransactions(this.dataSource, (db) => db.prepare(sql).run(...parameters.values).changes);
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(sql, parameters.values, true)).affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
