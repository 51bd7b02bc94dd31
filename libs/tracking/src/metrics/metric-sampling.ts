/**
 * How many consecutive points of a series one rollup row summarises, by level. Each size divides
 * the next, so a bucket made of whole blocks of one level is also made of whole smaller blocks.
 */
export const ROLLUP_SIZES: readonly number[] = [64, 1024, 16384];

/** A stored point of a series: `seq` is its position in logged order, from 0. */
export interface SeriesPoint {
  seq: number;
  step: number;
  timestampMs: number;
  value: number;
}

/** Points of one series as columns: point i is `steps[i]`, `timestampsMs[i]` and `values[i]`. */
export interface SeriesColumns {
  steps: number[];
  timestampsMs: number[];
  values: number[];
}

/**
 * Whether `a` is a lower point than `b` for sampling: a lower value, NaN counting as above every
 * number (PostgreSQL's order of floats), and of equal values the first logged.
 */
export function isLower(a: SeriesPoint, b: SeriesPoint): boolean {
  if (sameValue(a.value, b.value)) return a.seq < b.seq;
  return Number.isNaN(b.value) || a.value < b.value;
}

/** Whether `a` is a higher point than `b`: a higher value (NaN above all), of equal values the first logged. */
export function isHigher(a: SeriesPoint, b: SeriesPoint): boolean {
  if (sameValue(a.value, b.value)) return a.seq < b.seq;
  return Number.isNaN(a.value) || a.value > b.value;
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** The lowest and highest point seen of some points (a rollup block, a sampling bucket). */
export class Extremes {
  min: SeriesPoint | undefined;
  max: SeriesPoint | undefined;

  /** Takes `point` as a candidate for both ends. */
  add(point: SeriesPoint): void {
    this.addMin(point);
    this.addMax(point);
  }

  addMin(point: SeriesPoint): void {
    if (!this.min || isLower(point, this.min)) this.min = point;
  }

  addMax(point: SeriesPoint): void {
    if (!this.max || isHigher(point, this.max)) this.max = point;
  }
}

/**
 * The width, in seq, of the sampling buckets for points whose seq run from `lowSeq` to `highSeq`:
 * `bucket = floor(seq / width)`. Each bucket keeps its lowest and highest point, and the first and
 * last points are added: `floor(maxPoints / 2) - 2` buckets of `ceil(span / that)` seq cover the
 * span, plus one for the misaligned ends, so at most `maxPoints` points come out. A small
 * `maxPoints` still gets `min(floor(maxPoints / 2), 3)` buckets, so about that many points (a
 * smooth series gives two a bucket) and at most 10. (Under 4, only the first and last point are
 * kept.) A width of at least one rollup block is rounded up to whole blocks of the largest size
 * that fits in it, so rollups can stand in for their points.
 */
export function bucketWidth(lowSeq: number, highSeq: number, maxPoints: number): number {
  const half = Math.floor(maxPoints / 2);
  const buckets = Math.max(half - 2, Math.min(half, 3));
  const width = Math.ceil((highSeq - lowSeq + 1) / buckets);
  const size = [...ROLLUP_SIZES].reverse().find((candidate) => candidate <= width);
  return size ? Math.ceil(width / size) * size : width;
}

/**
 * The steps MLflow's get-history-bulk-interval keeps of `steps` (distinct, ascending): all of them
 * when there are at most `maxPoints`, else the first, those at `maxPoints - 1` more positions spaced
 * `steps.length / maxPoints` apart, and the last; ascending.
 */
export function evenSteps(steps: readonly number[], maxPoints: number): number[] {
  if (steps.length <= maxPoints) return [...steps];
  const interval = steps.length / maxPoints;
  const kept: number[] = [];
  for (let i = 0; i < maxPoints; i++) kept.push(steps[Math.floor(i * interval)]);
  kept.push(steps[steps.length - 1]);
  return kept;
}

/** A rollup level's blocks from `from` to `to`, both included. */
export interface BlockRange {
  level: number;
  from: number;
  to: number;
}

/**
 * How to read seq `low` to `high` of a series of `pointCount` points: whole blocks of the largest
 * level up to `topLevel` that fit, the rest by smaller levels, and at each end fewer points than
 * the smallest block as `raw` seq spans. A series' last block counts as whole when the range
 * reaches the series' last point.
 */
export function coverage(low: number, high: number, pointCount: number, topLevel: number): { blocks: BlockRange[]; raw: Array<[number, number]> } {
  const blocks: BlockRange[] = [];
  const raw: Array<[number, number]> = [];
  const cover = (from: number, to: number, level: number): void => {
    if (level < 0) {
      raw.push([from, to]);
      return;
    }
    const size = ROLLUP_SIZES[level];
    const first = Math.ceil(from / size);
    const last = to === pointCount - 1 ? Math.floor(to / size) : Math.floor((to + 1) / size) - 1;
    if (first > last) {
      cover(from, to, level - 1);
      return;
    }
    blocks.push({ level, from: first, to: last });
    if (from < first * size) cover(from, first * size - 1, level - 1);
    if ((last + 1) * size <= to) cover((last + 1) * size, to, level - 1);
  };
  cover(low, high, topLevel);
  return { blocks, raw };
}

/** The largest rollup level whose blocks fit whole in buckets `width` wide; -1 for none. */
export function levelFor(width: number): number {
  for (let level = ROLLUP_SIZES.length - 1; level >= 0; level--) if (width % ROLLUP_SIZES[level] === 0) return level;
  return -1;
}

/** Sampling buckets by bucket number, filled with candidate points. */
export class Buckets {
  private readonly byNumber = new Map<number, Extremes>();

  constructor(readonly width: number) {}

  /** Takes `point` as a candidate for both ends of its bucket. */
  add(point: SeriesPoint): void {
    this.of(point.seq).add(point);
  }

  /** The kept points with `first` and `last`, each once, ordered by step, then seq. */
  points(first: SeriesPoint, last: SeriesPoint): SeriesPoint[] {
    const kept = new Map<number, SeriesPoint>([[first.seq, first], [last.seq, last]]);
    for (const { min, max } of this.byNumber.values()) {
      if (min) kept.set(min.seq, min);
      if (max) kept.set(max.seq, max);
    }
    return byStep([...kept.values()]);
  }

  private of(seq: number): Extremes {
    const number = Math.floor(seq / this.width);
    let bucket = this.byNumber.get(number);
    if (!bucket) this.byNumber.set(number, (bucket = new Extremes()));
    return bucket;
  }
}

/** `points` sorted by step, then seq (in place). */
export function byStep<T extends SeriesPoint>(points: T[]): T[] {
  return points.sort((a, b) => a.step - b.step || a.seq - b.seq);
}
