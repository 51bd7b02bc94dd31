import { isHigher, isLower, ROLLUP_SIZES, type SeriesPoint } from './metric-sampling';

/** A series as an append finds it (locked) and leaves it. */
export interface SeriesState {
  id: number;
  key: string;
  pointCount: number;
  /** Meaningless while `pointCount` is 0. */
  latest: SeriesPoint;
  maxStep: number;
  monotonic: boolean;
}

/** Points to insert, column by column. */
export interface PointColumns {
  seriesId: number[];
  seq: number[];
  step: number[];
  timestamp: number[];
  value: number[];
}

/** What an append adds to one rollup block: merged into the stored row when there is one. */
export interface RollupDelta {
  seriesId: number;
  level: number;
  block: number;
  count: number;
  min: SeriesPoint;
  max: SeriesPoint;
  firstStep: number;
  lastStep: number;
  /** The lowest and highest timestamp of the block's points: where a point given again can be. */
  earliestTimestamp: number;
  latestTimestamp: number;
}

/**
 * Adds `points` (one key's, in logged order) after the stored ones of `series` to the points to
 * insert and the rollup deltas to merge, and returns the series as it will be after them.
 */
export function appendTo(
  series: SeriesState,
  points: ReadonlyArray<{ step: number; timestampMs: number; value: number }>,
  columns: PointColumns,
  rollups: RollupDelta[],
): SeriesState {
  const empty = series.pointCount === 0;
  let latest = empty ? undefined : series.latest;
  let maxStep = empty ? -Infinity : series.maxStep;
  let monotonic = series.monotonic;
  // While the series is monotonic its last step is its highest.
  let previousStep = maxStep;
  const open: Array<RollupDelta | undefined> = ROLLUP_SIZES.map(() => undefined);
  for (let i = 0; i < points.length; i++) {
    const { step, timestampMs, value } = points[i];
    const point: SeriesPoint = { seq: series.pointCount + i, step, timestampMs, value };
    columns.seriesId.push(series.id);
    columns.seq.push(point.seq);
    columns.step.push(step);
    columns.timestamp.push(timestampMs);
    columns.value.push(value);
    if (!latest || isLater(point, latest)) latest = point;
    if (step < previousStep) monotonic = false;
    previousStep = step;
    if (step > maxStep) maxStep = step;
    for (let level = 0; level < ROLLUP_SIZES.length; level++) {
      const number = Math.floor(point.seq / ROLLUP_SIZES[level]);
      let block = open[level];
      if (!block || block.block !== number) {
        block = {
          seriesId: series.id,
          level,
          block: number,
          count: 0,
          min: point,
          max: point,
          firstStep: step,
          lastStep: step,
          earliestTimestamp: timestampMs,
          latestTimestamp: timestampMs,
        };
        open[level] = block;
        rollups.push(block);
      }
      block.count++;
      block.lastStep = step;
      if (timestampMs < block.earliestTimestamp) block.earliestTimestamp = timestampMs;
      if (timestampMs > block.latestTimestamp) block.latestTimestamp = timestampMs;
      if (isLower(point, block.min)) block.min = point;
      if (isHigher(point, block.max)) block.max = point;
    }
  }
  return { ...series, pointCount: series.pointCount + points.length, latest: latest ?? series.latest, maxStep, monotonic };
}

/** MLflow's rule for a run's latest metric: the highest (step, timestamp, value); NaN is never higher. */
export function isLater(a: SeriesPoint, b: SeriesPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestampMs !== b.timestampMs) return a.timestampMs > b.timestampMs;
  return a.value > b.value;
}

/**
 * What makes points identical for MLflow, besides their key: step, timestamp and value, NaN equal
 * to NaN (MLflow keeps NaN as a flag of the point) and -0 to 0.
 */
export function identityOf(point: { step: number; timestampMs: number; value: number }): string {
  const { step, timestampMs, value } = point;
  return `${step}:${timestampMs}:${Number.isNaN(value) ? 'NaN' : value === 0 ? '0' : String(value)}`;
}

/**
 * Whether `point` may be identical to one `series` holds. The latest point is the highest by step,
 * then timestamp, so a point above it in step and timestamp is new without looking: the case of
 * every batch a training loop logs, with steps or timestamps that grow.
 */
export function mayRepeat(series: SeriesState, point: { step: number; timestampMs: number }): boolean {
  if (series.pointCount === 0) return false;
  return point.step < series.latest.step || (point.step === series.latest.step && point.timestampMs <= series.latest.timestampMs);
}
