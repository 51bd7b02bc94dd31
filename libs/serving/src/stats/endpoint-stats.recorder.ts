import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, type Logger } from '@trellis/platform';
import { LATENCY_BUCKETS, LatencyHistogram } from './latency-histogram';
import { EndpointStatsRepository, type StatsCount } from './endpoint-stats.repository';

export const MINUTE_MS = 60_000;
/** How often each replica adds the counts it gathered to the database. */
export const STATS_WRITE_INTERVAL_MS = 5_000;
/** How long counts are kept. */
export const STATS_RETENTION_MS = 30 * 24 * 3_600_000;
const PRUNE_INTERVAL_MS = 3_600_000;

/** One revision's requests in one minute, not yet written. */
export interface MinuteCounts {
  endpointId: string;
  revisionId: string;
  minute: number;
  histogram: LatencyHistogram;
}

/**
 * This replica's counts of what each revision answered, per minute, with a latency histogram:
 * `record` is an increment in memory on the request's path; every STATS_WRITE_INTERVAL_MS and at
 * shutdown the counts gathered since the last write are added to the database's (so replicas add
 * up, and a replica never overwrites another's counts). A write that fails keeps its counts for
 * the next. Counts older than STATS_RETENTION_MS are deleted hourly.
 */
@Injectable()
export class EndpointStatsRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private pending = new Map<string, MinuteCounts>();
  /** The latest minute of each revision in `pending`, so that most requests find theirs without building a key. */
  private readonly latest = new Map<string, MinuteCounts>();
  private writeTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private writing?: Promise<void>;

  constructor(
    private readonly repository: EndpointStatsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.writeTimer = setInterval(() => void this.write(), STATS_WRITE_INTERVAL_MS).unref();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.writeTimer);
    clearInterval(this.pruneTimer);
    await this.write();
  }

  /** Counts one request a revision's model answered (or failed, `error`) in `latencyMs`. */
  record(endpointId: string, revisionId: string, latencyMs: number, error: boolean, now = Date.now()): void {
    const minute = now - (now % MINUTE_MS);
    let counts = this.latest.get(revisionId);
    if (!counts || counts.minute !== minute) {
      const key = `${revisionId} ${minute}`;
      counts = this.pending.get(key);
      if (!counts) {
        counts = { endpointId, revisionId, minute, histogram: new LatencyHistogram() };
        this.pending.set(key, counts);
      }
      this.latest.set(revisionId, counts);
    }
    counts.histogram.record(latencyMs, error);
  }

  /** The counts of the endpoint's minutes in [from, to) gathered here and not yet written (GetEndpointStats adds them). */
  unwritten(endpointId: string, from: number, to: number): MinuteCounts[] {
    return [...this.pending.values()].filter((counts) => counts.endpointId === endpointId && counts.minute >= from && counts.minute < to);
  }

  /** Adds the counts gathered since the last write to the database; resolves when they are written (or kept for the next write). */
  write(): Promise<void> {
    this.writing ??= this.writeOnce().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async writeOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const taken = this.pending;
    this.pending = new Map();
    this.latest.clear();
    try {
      await this.repository.add([...taken.values()].flatMap(rowsOf));
    } catch (error) {
      this.logger.warn({ err: error, minutes: taken.size }, 'adding endpoint statistics to the database failed; they are added with the next write');
      for (const [key, counts] of taken) {
        const kept = this.pending.get(key);
        if (kept) kept.histogram.merge(counts.histogram);
        else this.pending.set(key, counts);
      }
    }
  }

  private async prune(): Promise<void> {
    await this.repository.prune(Date.now() - STATS_RETENTION_MS).catch((error: unknown) => this.logger.warn({ err: error }, 'deleting expired endpoint statistics failed'));
  }
}

/** A minute's rows: one per latency bucket that had requests. */
function rowsOf({ endpointId, revisionId, minute, histogram }: MinuteCounts): StatsCount[] {
  const rows: StatsCount[] = [];
  for (let latencyBucket = 0; latencyBucket < LATENCY_BUCKETS; latencyBucket++) {
    const requests = histogram.requests[latencyBucket];
    if (requests > 0) rows.push({ endpointId, minute, revisionId, latencyBucket, requests, errors: histogram.errors[latencyBucket] });
  }
  return rows;
}
