import type { AlertRuleJson, AlertSeverityJson, PerformanceMetricJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { CliError, EXIT } from '../exit-codes';
import { parseCount, parseDuration, parseNumber } from './arguments';

/** The metrics `--metric` takes, and whether each alerts below a bound (scores) or above it (errors). */
export const METRICS: Record<string, { metric: PerformanceMetricJson; alertsBelow: boolean }> = {
  accuracy: { metric: 'PERFORMANCE_METRIC_ACCURACY', alertsBelow: true },
  precision: { metric: 'PERFORMANCE_METRIC_PRECISION', alertsBelow: true },
  recall: { metric: 'PERFORMANCE_METRIC_RECALL', alertsBelow: true },
  f1: { metric: 'PERFORMANCE_METRIC_F1', alertsBelow: true },
  mae: { metric: 'PERFORMANCE_METRIC_MAE', alertsBelow: false },
  rmse: { metric: 'PERFORMANCE_METRIC_RMSE', alertsBelow: false },
};

export const SEVERITIES = ['info', 'warning', 'critical'] as const;

/** `trellis alerts rules create`'s options, as commander parses them. */
export interface AlertRuleOptions {
  driftShare?: string;
  column?: string;
  above?: string;
  below?: string;
  metric?: keyof typeof METRICS;
  minLabeledRows?: string;
  missingRate?: string;
  for?: string;
  severity?: (typeof SEVERITIES)[number];
  notifier: string[];
}

/**
 * The AlertRule for `options`: exactly one condition (--drift-share, --column with --above or
 * --below, --metric with its bound, or --missing-rate), else a usage error that lists them.
 */
export function alertRuleRequest(monitorId: string, name: string, options: AlertRuleOptions): AlertRuleJson {
  const rule: AlertRuleJson = {
    monitorId,
    name,
    forSeconds: String(options.for ? parseDuration(options.for, '--for') : 0),
    severity: `ALERT_SEVERITY_${(options.severity ?? 'warning').toUpperCase()}` as AlertSeverityJson,
    notifiers: options.notifier,
  };
  const conditions = [options.driftShare, options.metric, options.missingRate, options.column !== undefined && options.missingRate === undefined ? options.column : undefined].filter((value) => value !== undefined);
  if (conditions.length !== 1) {
    throw new CliError(
      'give exactly one condition: --drift-share <share>, --column <name> with --above <distance> or --below <p-value>, --metric <name> with --below or --above, or --missing-rate <rate> [--column <name>]',
      EXIT.usage,
    );
  }
  if (options.driftShare !== undefined) {
    rule.driftShare = { atLeast: parseNumber(options.driftShare, '--drift-share', { min: 0, max: 1, exclusiveMin: true }) };
  } else if (options.missingRate !== undefined) {
    rule.missingRate = { column: options.column ?? '', above: parseNumber(options.missingRate, '--missing-rate', { min: 0, max: 1 }) };
  } else if (options.metric !== undefined) {
    const { metric, alertsBelow } = METRICS[options.metric];
    const bound = alertsBelow ? options.below : options.above;
    if (bound === undefined) throw new CliError(`--metric ${options.metric} alerts ${alertsBelow ? 'below a bound: add --below <value>' : 'above a bound: add --above <value>'}`, EXIT.usage);
    const value = parseNumber(bound, alertsBelow ? '--below' : '--above', { min: 0 });
    rule.performance = { metric, [alertsBelow ? 'below' : 'above']: value, minLabeledRows: String(options.minLabeledRows ? parseCount(options.minLabeledRows, '--min-labeled-rows') : 0) };
  } else {
    if ((options.above === undefined) === (options.below === undefined)) throw new CliError('--column needs one bound: --above <distance> or --below <p-value>', EXIT.usage);
    rule.columnDistance = {
      column: options.column,
      above: options.above === undefined ? 0 : parseNumber(options.above, '--above', { min: 0 }),
      below: options.below === undefined ? 0 : parseNumber(options.below, '--below', { min: 0, max: 1, exclusiveMin: true }),
    };
  }
  return rule;
}
