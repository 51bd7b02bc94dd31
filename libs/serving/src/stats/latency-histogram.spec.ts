import { bucketOf, bucketValue, LATENCY_BUCKETS, LatencyHistogram, MIN_LATENCY_MS } from './latency-histogram';

describe('LatencyHistogram', () => {
  it('reports any latency from 10 us to 160 s within 10% of itself', () => {
    for (let latency = MIN_LATENCY_MS; latency < 160_000; latency *= 1.07) {
      expect(Math.abs(bucketValue(bucketOf(latency)) - latency) / latency).toBeLessThan(0.1);
    }
  });

  it('puts what is below its range in the first bucket and above it in the last', () => {
    expect([bucketOf(0), bucketOf(-1), bucketOf(Number.NaN), bucketOf(0.001)]).toEqual([0, 0, 0, 0]);
    expect(bucketOf(1e9)).toBe(LATENCY_BUCKETS - 1);
  });

  it('gives nearest-rank percentiles of the requests it counted, and their errors', () => {
    const histogram = new LatencyHistogram();
    for (let index = 1; index <= 100; index++) histogram.record(index, index > 95);
    expect({ requests: histogram.total, errors: histogram.totalErrors }).toEqual({ requests: 100, errors: 5 });
    expect(Math.abs(histogram.quantile(0.5)! - 50) / 50).toBeLessThan(0.1);
    expect(Math.abs(histogram.quantile(0.95)! - 95) / 95).toBeLessThan(0.1);
    expect(Math.abs(histogram.quantile(0.99)! - 99) / 99).toBeLessThan(0.1);
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined();
  });

  it('merges two replicas\' counts into the percentiles of all their requests', () => {
    const fast = new LatencyHistogram();
    const slow = new LatencyHistogram();
    for (let index = 0; index < 90; index++) fast.record(2, false);
    for (let index = 0; index < 10; index++) slow.record(400, true);
    fast.merge(slow);
    expect({ requests: fast.total, errors: fast.totalErrors }).toEqual({ requests: 100, errors: 10 });
    expect(fast.quantile(0.5)).toBe(bucketValue(bucketOf(2)));
    expect(fast.quantile(0.9)).toBe(bucketValue(bucketOf(2)));
    expect(fast.quantile(0.95)).toBe(bucketValue(bucketOf(400)));
  });

  it('adds stored rows bucket by bucket, as merging their histograms would', () => {
    const recorded = new LatencyHistogram();
    recorded.record(3, false);
    recorded.record(3, true);
    const stored = new LatencyHistogram();
    stored.addBucket(bucketOf(3), 2, 1);
    stored.addBucket(LATENCY_BUCKETS, 5, 5);
    expect(stored.requests).toEqual(recorded.requests);
    expect(stored.errors).toEqual(recorded.errors);
  });
});
