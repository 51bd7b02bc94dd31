/**
 * Latencies as counts in fixed, log-spaced buckets, so that counts of any replica and any minute
 * add up bucket by bucket and percentiles come from the sum. Bucket 0 holds latencies under
 * MIN_LATENCY_MS; bucket i >= 1 holds [MIN_LATENCY_MS * 2^((i-1)/STEPS), MIN_LATENCY_MS * 2^(i/STEPS)),
 * about 19% wide; the last one also holds everything above it.
 */
export const MIN_LATENCY_MS = 0.01;
/** Buckets per doubling of latency. */
const STEPS = 4;
/** 10 us to about 168 s (2^24 times the smallest), plus the bucket under it. */
export const LATENCY_BUCKETS = 1 + 24 * STEPS;

/** The bucket a latency falls in: a logarithm and a floor, cheap enough for every request. */
export function bucketOf(latencyMs: number): number {
  if (!(latencyMs >= MIN_LATENCY_MS)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, 1 + Math.floor(STEPS * Math.log2(latencyMs / MIN_LATENCY_MS)));
}

/** What a bucket's latencies are reported as: the geometric middle of its bounds, within 10% of any of them. */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return MIN_LATENCY_MS / 2;
  return MIN_LATENCY_MS * 2 ** ((bucket - 0.5) / STEPS);
}

/** Requests and errors of one span, by latency bucket. */
export class LatencyHistogram {
  readonly requests = new Float64Array(LATENCY_BUCKETS);
  readonly errors = new Float64Array(LATENCY_BUCKETS);

  record(latencyMs: number, error: boolean): void {
    const bucket = bucketOf(latencyMs);
    this.requests[bucket] += 1;
    if (error) this.errors[bucket] += 1;
  }

  /** Adds `count` requests (of which `errors` failed) to one bucket, as a stored row holds them. */
  addBucket(bucket: number, requests: number, errors: number): void {
    if (bucket < 0 || bucket >= LATENCY_BUCKETS) return;
    this.requests[bucket] += requests;
    this.errors[bucket] += errors;
  }

  /** Adds another histogram's counts to this one's. */
  merge(other: LatencyHistogram): void {
    for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) {
      this.requests[bucket] += other.requests[bucket];
      this.errors[bucket] += other.errors[bucket];
    }
  }

  get total(): number {
    return this.requests.reduce((sum, count) => sum + count, 0);
  }

  get totalErrors(): number {
    return this.errors.reduce((sum, count) => sum + count, 0);
  }

  /** The nearest-rank `share` quantile (0.99 for p99) as its bucket's value; undefined with no requests. */
  quantile(share: number): number | undefined {
    const total = this.total;
    if (total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(share * total));
    let seen = 0;
    for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) {
      seen += this.requests[bucket];
      if (seen >= rank) return bucketValue(bucket);
    }
    return bucketValue(LATENCY_BUCKETS - 1);
  }
}
