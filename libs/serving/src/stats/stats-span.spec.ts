import { InvalidArgumentError } from '@trellis/platform';
import { bucketOf, LatencyHistogram } from './latency-histogram';
import { BucketedHistograms, statsSpan } from './stats-span';

const now = Date.UTC(2026, 5, 1, 12, 34, 56, 789);
const HOUR = 3_600_000;

function refusal(run: () => unknown): { field?: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('it was not refused');
}

describe('statsSpan', () => {
  it('reads the last hour in minute buckets when nothing is asked, from a whole minute', () => {
    expect(statsSpan({}, now)).toEqual({ fromMs: Date.UTC(2026, 5, 1, 11, 34), toMs: now, widthMs: 60_000, buckets: 61 });
  });

  it('starts at a multiple of the bucket width', () => {
    const span = statsSpan({ startMs: Date.UTC(2026, 5, 1, 10, 20), endMs: Date.UTC(2026, 5, 1, 12), widthMs: HOUR }, now);
    expect(span).toEqual({ fromMs: Date.UTC(2026, 5, 1, 10), toMs: Date.UTC(2026, 5, 1, 12), widthMs: HOUR, buckets: 2 });
  });

  it('refuses spans it would not read, naming the field and what to ask instead', () => {
    expect(refusal(() => statsSpan({ widthMs: 30_000 }, now))).toMatchObject({ field: 'bucket_width', message: expect.stringContaining('at least 60s') });
    expect(refusal(() => statsSpan({ widthMs: 90_000 }, now))).toMatchObject({ field: 'bucket_width' });
    expect(refusal(() => statsSpan({ startMs: now, endMs: now }, now))).toMatchObject({ field: 'end_time' });
    expect(refusal(() => statsSpan({ startMs: now - 8 * 24 * HOUR }, now))).toMatchObject({ field: 'start_time', message: expect.stringContaining('at most 7 days') });
    expect(refusal(() => statsSpan({ startMs: now - 2 * 24 * HOUR }, now))).toMatchObject({ field: 'bucket_width', message: expect.stringContaining('at most 1440') });
    expect(statsSpan({ startMs: now - 7 * 24 * HOUR, widthMs: 10 * 60_000 }, now).buckets).toBe(1009);
  });
});

describe('BucketedHistograms', () => {
  it('lists the buckets that had requests, oldest first, with their start times and percentiles', () => {
    const span = statsSpan({ startMs: 0, endMs: 10 * 60_000, widthMs: 120_000 }, now);
    const buckets = new BucketedHistograms(span);
    buckets.at(3).addBucket(bucketOf(8), 4, 1);
    const earlier = new LatencyHistogram();
    earlier.record(1, false);
    buckets.at(0).merge(earlier);
    buckets.at(1);
    expect(buckets.summaries()).toEqual([
      { timestampMs: 0, requests: 1, errors: 0, p50Ms: expect.closeTo(1, 0), p95Ms: expect.closeTo(1, 0), p99Ms: expect.closeTo(1, 0) },
      { timestampMs: 360_000, requests: 4, errors: 1, p50Ms: expect.closeTo(8, -1), p95Ms: expect.closeTo(8, -1), p99Ms: expect.closeTo(8, -1) },
    ]);
  });
});
