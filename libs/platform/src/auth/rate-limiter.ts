/** Token-bucket settings: `ratePerSecond` sustained, `burst` at once. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

/**
 * Token buckets per key (an API key id, a client address), in memory. Keeps at most `maxKeys`
 * buckets, dropping the least recently used, so a flood of distinct keys cannot exhaust memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    this.buckets.delete(key);
    bucket.tokens = this.tokensAt(bucket, now);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return allowed;
  }

  /**
   * Whole seconds until `key`'s bucket holds a token again, at least 1: what a refused caller is
   * told to wait (HTTP `Retry-After`, gRPC `retry-after` metadata).
   */
  retryAfterSeconds(key: string): number {
    const bucket = this.buckets.get(key);
    const missing = bucket ? 1 - this.tokensAt(bucket, this.now()) : 0;
    return Math.max(1, Math.ceil(missing / this.limit.ratePerSecond));
  }

  private tokensAt(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.ratePerSecond);
  }
}
