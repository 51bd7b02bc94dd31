import { setTimeout as sleep } from 'node:timers/promises';

/** How a {@link ScrapeReading} reads its figure. */
export interface ScrapeReadingOptions {
  /** How long a figure serves later scrapes before it is read again. Default 1000 ms. */
  maxAgeMs?: number;
  /** Longest a scrape waits for a read; past it, the scrape gets the figure before (the read goes on). Default 1000 ms. */
  waitMs?: number;
}

/**
 * A figure for `/metrics` that costs a round trip (a count in the database, a question to NATS),
 * read at most once per `maxAgeMs` however often the metrics are scraped, one read at a time, and
 * never holding a scrape longer than `waitMs`: a slow or unreachable database or broker must not
 * stall or fail the process's whole scrape. A read that fails leaves no figure until one succeeds,
 * so its series go rather than show a stale value.
 */
export class ScrapeReading<T> {
  private readonly maxAgeMs: number;
  private readonly waitMs: number;
  private figure?: { value: T; readAt: number };
  private reading?: Promise<void>;

  constructor(
    private readonly read: () => Promise<T>,
    options: ScrapeReadingOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.waitMs = options.waitMs ?? 1000;
  }

  /** The figure for this scrape: fresh enough, read now, or (when the read is slow) the one before; undefined when there is none. */
  async latest(): Promise<T | undefined> {
    if (this.figure && performance.now() - this.figure.readAt < this.maxAgeMs) return this.figure.value;
    this.reading ??= this.refresh().finally(() => (this.reading = undefined));
    const gaveUp = new AbortController();
    await Promise.race([this.reading, sleep(this.waitMs, undefined, { signal: gaveUp.signal }).catch(() => undefined)]);
    gaveUp.abort();
    return this.figure?.value;
  }

  private async refresh(): Promise<void> {
    const readAt = performance.now();
    try {
      this.figure = { value: await this.read(), readAt };
    } catch {
      this.figure = undefined;
    }
  }
}
