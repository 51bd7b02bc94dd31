import { bucketWidth, coverage, levelFor, ROLLUP_SIZES } from './metric-sampling';

describe('bucketWidth', () => {
  it('keeps at most maxPoints points: (maxPoints / 2 - 2) buckets cover the span, plus one for misaligned ends', () => {
    for (const [low, high, maxPoints] of [[0, 999_999, 1000], [1234, 98_765, 100], [7, 70, 10], [0, 19_999, 6], [3000, 3200, 7]]) {
      const width = bucketWidth(low, high, maxPoints);
      const buckets = Math.floor(high / width) - Math.floor(low / width) + 1;
      expect(2 * buckets + 2).toBeLessThanOrEqual(maxPoints);
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

  it('makes one bucket of everything under 6 points', () => {
    expect(Math.floor(19_999 / bucketWidth(500, 19_999, 5))).toBe(0);
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
