import type { Logger } from '@trellis/platform';
import type { PredictionEntity } from './prediction.entity';
import type { PredictionRepository } from './prediction.repository';

/** A logged prediction as TracePrediction finds it. */
export type TraceRow = Omit<PredictionEntity, 'seq'>;

/** How a {@link TraceWriter} batches. */
export interface TraceWriterOptions {
  /** Most rows waiting at once; beyond, rows are dropped (not traceable) and `dropped` is told. */
  capacity: number;
  /** Most rows in one INSERT; a write starts as soon as this many wait. */
  batchRows: number;
  /** How long a row waits for others before a write that is not full starts. */
  lingerMs: number;
  dropped: (rows: number) => void;
  logger: Logger;
}

/**
 * Stores logged predictions for TracePrediction in batches, off the request's path: one INSERT
 * (one commit, one disk sync on SQLite) per `batchRows` rows or per `lingerMs`, not per request.
 * One write at a time; rows taken meanwhile wait for the next.
 */
export class TraceWriter {
  private readonly pending: TraceRow[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;

  constructor(
    private readonly repository: Pick<PredictionRepository, 'insert'>,
    private readonly options: TraceWriterOptions,
  ) {}

  /** Queues a row for the next write; false if it was dropped because too many wait. */
  add(row: TraceRow): boolean {
    if (this.pending.length >= this.options.capacity) {
      this.options.dropped(1);
      return false;
    }
    this.pending.push(row);
    if (this.pending.length >= this.options.batchRows) void this.write();
    else this.timer ??= setTimeout(() => void this.write(), this.options.lingerMs).unref();
    return true;
  }

  /** Resolves once every row added so far is stored (or failed to be). */
  async flush(): Promise<void> {
    while (this.writing || this.pending.length > 0) await this.write(true);
  }

  /** Writes full batches, then whatever is left when `all` (else the rest waits for the timer). */
  private write(all = false): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing ??= (async () => {
      do await this.insert(this.pending.splice(0, this.options.batchRows));
      while (this.pending.length >= this.options.batchRows || (all && this.pending.length > 0));
    })().finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0) this.timer ??= setTimeout(() => void this.write(), this.options.lingerMs).unref();
    });
    return this.writing;
  }

  private async insert(rows: TraceRow[]): Promise<void> {
    try {
      await this.repository.insert(rows);
    } catch (error) {
      this.options.dropped(rows.length);
      this.options.logger.warn({ err: error, dropped: rows.length }, 'storing logged predictions for tracing failed; they are not traceable');
    }
  }
}
