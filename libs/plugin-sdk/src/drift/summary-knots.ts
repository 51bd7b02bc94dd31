import type { HistogramSummary, QuantileSummary } from '../contracts/drift';

/** A point of a cumulative distribution: the share `p` of the values lie at or below `x`. */
export interface CdfKnot {
  x: number;
  p: number;
}

/**
 * The points of the cumulative distribution a numeric summary states, checked as the drift
 * contract requires: quantiles as given, a histogram as its edges with the share of values below
 * each. `RangeError` naming what is wrong otherwise.
 */
export function summaryKnots(summary: QuantileSummary | HistogramSummary): CdfKnot[] {
  return summary.summary === 'quantiles' ? quantileKnots(summary) : histogramKnots(summary);
}

/** `RangeError` naming `field` unless `counts` are integers of 0 or more with at least one above 0. */
export function checkSummaryCounts(counts: readonly number[], field: string): void {
  if (counts.some((c) => !Number.isInteger(c) || c < 0)) throw new RangeError(`summary ${field} are integers of 0 or more`);
  if (counts.reduce((a, b) => a + b, 0) === 0) throw new RangeError(`summary ${field} add up to 0: there is nothing to compare with`);
}

function quantileKnots(summary: QuantileSummary): CdfKnot[] {
  const q = summary.quantiles;
  if (!Number.isInteger(summary.count) || summary.count < 1) throw new RangeError(`summary count is an integer of at least 1, got ${summary.count}`);
  if (!Array.isArray(q) || q.length < 2) throw new RangeError('summary quantiles need at least two points');
  q.forEach((point, i) => {
    if (!Number.isFinite(point.value) || !(point.p >= 0 && point.p <= 1)) throw new RangeError(`summary quantiles[${i}] needs p from 0 to 1 and a finite value`);
    if (i > 0 && (point.p <= q[i - 1].p || point.value < q[i - 1].value)) throw new RangeError(`summary quantiles[${i}] must follow quantiles[${i - 1}]: p ascending, value not decreasing`);
  });
  return q.map(({ p, value }) => ({ x: value, p }));
}

function histogramKnots(summary: HistogramSummary): CdfKnot[] {
  const { edges, counts } = summary;
  if (!Array.isArray(edges) || !Array.isArray(counts) || edges.length !== counts.length + 1 || counts.length < 1) {
    throw new RangeError(`summary edges needs one more entry than counts (${edges?.length} edges, ${counts?.length} counts)`);
  }
  edges.forEach((edge, i) => {
    if (!Number.isFinite(edge) || (i > 0 && edge <= edges[i - 1])) throw new RangeError(`summary edges must be finite and strictly ascending; edges[${i}] is ${edge}`);
  });
  checkSummaryCounts(counts, 'counts');
  const total = counts.reduce((a, b) => a + b, 0);
  let seen = 0;
  return edges.map((x, i) => {
    if (i > 0) seen += counts[i - 1];
    return { x, p: seen / total };
  });
}
