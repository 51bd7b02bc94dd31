import { bucketWidth, coverage, evenSteps, levelFor, ROLLUP_SIZES } from './metric-sampling';

describe('bucketWidth', () => {
  const bucketsOver = (low: number, high: number, width: number) => Math.floor(high / width) - Math.floor(low / width) + 1;

  it('keeps at most maxPoints points: (maxPoints / 2 - 2) buckets cover the span, plus one for misaligned ends', () => {
    for (const [low, high, maxPoints] of [[0, 999_999, 1000], [1234, 98_765, 100], [7, 70, 10], [0, 19_999, 12], [3000, 3200, 11]]) {
      expect(2 * bucketsOver(low, high, bucketWidth(low, high, maxPoints)) + 2).toBeLessThanOrEqual(maxPoints);
    }
  });

  it('gives a small maxPoints about as many buckets as half of it, and never more than 10 points', () => {
    for (const [maxPoints, buckets] of [[4, 2], [5, 2], [6, 3], [7, 3], [8, 3], [9, 3]]) {
      expect(bucketsOver(0, 9999, bucketWidth(0, 9999, maxPoints))).toBe(buckets);
      for (const [low, high] of [[0, 999_999], [3000, 3200], [1, 10]]) expect(2 * bucketsOver(low, high, bucketWidth(low, high, maxPoints)) + 2).toBeLessThanOrEqual(10);
    }
  });

  it('rounds a width of a block or more up to whole blocks of the largest size that fits', () => {
    expect(bucketWidth(0, 999_999, 1000)).toBe(2048);
    expect(bucketWidth(0, 199_999, 1000)).toBe(448);
    expect(bucketWidth(0, 19_999, 1000)).toBe(41);
    expect(levelFor(2048)).toBe(1);
    expect(levelFor(448)).toBe(0);
    expect(levelFor(41)).toBe(-1);
  });

});

describe('evenSteps', () => {
  it("keeps MLflow's steps: every one up to maxPoints, else evenly spaced from the first, and the last", () => {
    const steps = Array.from({ length: 10 }, (_, i) => i);
    expect(evenSteps(steps, 5)).toEqual([0, 2, 4, 6, 8, 9]);
    expect(evenSteps(steps, 10)).toEqual(steps);
    expect(evenSteps(steps, 3)).toEqual([0, 3, 6, 9]);
    expect(evenSteps(steps, 1)).toEqual([0, 9]);
    expect(evenSteps([5, 50, 500], 2)).toEqual([5, 50, 500]);
    expect(evenSteps([], 5)).toEqual([]);
  });
});

describe('coverage', () => {
  it('covers a range exactly once with whole blocks and fewer than two small blocks of points at each end', () => {
    let state = 7;
    const next = (limit: number) => (state = (state * 48271) % 2147483647) % limit;
    for (let i = 0; i < 2000; i++) {
      const pointCount = 1 + next(100_000);
      const low = next(pointCount);
      const high = low + next(pointCount - low);
      const { blocks, raw } = coverage(low, high, pointCount, next(ROLLUP_SIZES.length));
      const spans = [
        ...raw,
        ...blocks.flatMap(({ level, from, to }) =>
          Array.from({ length: to - from + 1 }, (_, b): [number, number] => [(from + b) * ROLLUP_SIZES[level], Math.min((from + b + 1) * ROLLUP_SIZES[level], pointCount) - 1]),
        ),
      ].sort((a, b) => a[0] - b[0]);
      expect(spans[0][0]).toBe(low);
      expect(spans[spans.length - 1][1]).toBe(high);
      for (let s = 1; s < spans.length; s++) expect(spans[s][0]).toBe(spans[s - 1][1] + 1);
      expect(raw.length).toBeLessThanOrEqual(2);
      for (const [from, to] of raw) expect(to - from + 1).toBeLessThan(2 * ROLLUP_SIZES[0]);
    }
  });
});
