/** PromQL's functions, aggregations and keywords: the words of a query that are not metric names. */
const NOT_METRICS = new Set(['sum', 'min', 'max', 'avg', 'count', 'topk', 'bottomk', 'rate', 'irate', 'increase', 'deriv', 'histogram_quantile', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

/** The metric names a PromQL expression reads (`foo_bucket` of a histogram as written). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const words = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(words.filter((word) => !NOT_METRICS.has(word)))];
}
