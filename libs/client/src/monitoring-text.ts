/** How a monitor, its window, a rule and a column's verdict read to people: the same words in the web UI and the CLI. */
import type { AlertRuleJson, ColumnResultJson, MonitorJson, WindowSpecJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';

/** `endpoint churn` or `dataset accounts (daily.csv)`. */
export function sourceText(monitor: MonitorJson): string {
  if (monitor.endpoint) return `endpoint ${monitor.endpoint.endpointName}`;
  if (monitor.dataset) return `dataset ${monitor.dataset.datasetName}${monitor.dataset.path ? ` (${monitor.dataset.path})` : ''}`;
  return '';
}

/** `1,000 rows`, `1,000 rows, sliding by 100`, `3600 s`, or `each version` for a dataset monitor. */
export function windowText(window: WindowSpecJson | undefined, monitor: MonitorJson): string {
  if (monitor.dataset) return 'each version';
  const rows = Number(window?.rows ?? 0);
  const seconds = Number(window?.durationSeconds ?? 0);
  const slide = Number(window?.slide ?? 0);
  const size = rows ? `${rows} rows` : `${seconds} s`;
  return slide && slide !== (rows || seconds) ? `${size}, sliding by ${slide}${rows ? ' rows' : ' s'}` : size;
}

/** MONITOR_STATE_ACTIVE -> active. */
export function enumText(value: string | undefined, prefix: string): string {
  return (value ?? '').replace(prefix, '').toLowerCase();
}

/** What a rule's condition says: `drift share >= 0.5`, `f0 p-value < 0.05`, `accuracy < 0.8 (10+ labels)`. */
export function conditionText(rule: AlertRuleJson): string {
  if (rule.driftShare) return `drift share >= ${rule.driftShare.atLeast ?? 0}`;
  if (rule.columnDistance) {
    const { column, above, below } = rule.columnDistance;
    return below ? `${column} p-value < ${below}` : `${column} distance > ${above ?? 0}`;
  }
  if (rule.performance) {
    const { metric, below, above, minLabeledRows } = rule.performance;
    const labels = Number(minLabeledRows ?? 0) > 1 ? ` (${minLabeledRows}+ labels)` : '';
    return `${enumText(metric, 'PERFORMANCE_METRIC_')} ${below ? `< ${below}` : `> ${above ?? 0}`}${labels}`;
  }
  if (rule.missingRate) return `${rule.missingRate.column || 'any column'} missing rate > ${rule.missingRate.above ?? 0}`;
  return '';
}

/** A column's verdict: `drifted`, `ok`, or why it was not scored. */
export function verdictText(column: ColumnResultJson): string {
  if (column.error) return `not scored: ${column.error}`;
  return column.drifted ? 'drifted' : 'ok';
}
