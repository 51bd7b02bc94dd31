import { InvalidArgumentError } from '@trellis/platform';
import { LatencyHistogram } from './latency-histogram';
import { MINUTE_MS } from './endpoint-stats.recorder';

/** The longest span one GetEndpointStats call reads. */
export const MAX_SPAN_MS = 7 * 24 * 3_600_000;
/** The most buckets one call answers. */
export const MAX_BUCKETS = 1440;
const HOUR_MS = 3_600_000;

/** What a caller asked for; undefined means the default. */
export interface SpanRequest {
  startMs?: number;
  endMs?: number;
  widthMs?: number;
}

/** A checked span: [fromMs, toMs) in `buckets` buckets of `widthMs`, fromMs a multiple of widthMs. */
export interface StatsSpan {
  fromMs: number;
  toMs: number;
  widthMs: number;
  buckets: number;
}

/** One bucket's summary, as StatsBucket carries it. */
export interface BucketSummary {
  timestampMs: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/**
 * The span a request asks for, defaults filled in (the last hour, minute buckets), or
 * INVALID_ARGUMENT naming the field, reason STATS_RANGE_INVALID.
 */
export function statsSpan(request: SpanRequest, now: number): StatsSpan {
  const widthMs = request.widthMs ?? MINUTE_MS;
  if (!Number.isSafeInteger(widthMs) || widthMs < MINUTE_MS || widthMs % MINUTE_MS !== 0) {
    throw invalid(`must be a whole number of minutes, at least 60s; it was ${widthMs / 1000}s`, 'bucket_width');
  }
  const toMs = request.endMs ?? now;
  const startMs = request.startMs ?? toMs - HOUR_MS;
  if (!(toMs > startMs)) throw invalid('must be after start_time', 'end_time');
  if (toMs - startMs > MAX_SPAN_MS) throw invalid(`the span is ${Math.ceil((toMs - startMs) / HOUR_MS)} hours; at most 7 days (168 hours) can be read at once`, 'start_time');
  const fromMs = startMs - (((startMs % widthMs) + widthMs) % widthMs);
  const buckets = Math.ceil((toMs - fromMs) / widthMs);
  if (buckets > MAX_BUCKETS) throw invalid(`gives ${buckets} buckets over the span; at most ${MAX_BUCKETS}: ask for wider buckets or a shorter span`, 'bucket_width');
  return { fromMs, toMs, widthMs, buckets };
}

/** A bucket's counts and percentiles from its merged histogram. */
export function summarize(timestampMs: number, histogram: LatencyHistogram): BucketSummary {
  return {
    timestampMs,
    requests: histogram.total,
    errors: histogram.totalErrors,
    p50Ms: histogram.quantile(0.5) ?? 0,
    p95Ms: histogram.quantile(0.95) ?? 0,
    p99Ms: histogram.quantile(0.99) ?? 0,
  };
}

/** Histograms by bucket index, merged as counts arrive; `summaries()` lists the buckets that had requests, oldest first. */
export class BucketedHistograms {
  private readonly buckets = new Map<number, LatencyHistogram>();

  constructor(private readonly span: StatsSpan) {}

  at(slot: number): LatencyHistogram {
    let histogram = this.buckets.get(slot);
    if (!histogram) {
      histogram = new LatencyHistogram();
      this.buckets.set(slot, histogram);
    }
    return histogram;
  }

  summaries(): BucketSummary[] {
    return [...this.buckets.entries()]
      .filter(([, histogram]) => histogram.total > 0)
      .sort(([a], [b]) => a - b)
      .map(([slot, histogram]) => summarize(this.span.fromMs + slot * this.span.widthMs, histogram));
  }
}

function invalid(message: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(message, field, { reason: 'STATS_RANGE_INVALID' });
}
