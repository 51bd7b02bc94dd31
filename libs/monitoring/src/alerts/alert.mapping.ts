import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError } from '@trellis/platform';
import type { Alert as Notification, AlertSeverity as SeverityName } from '@trellis/plugin-sdk';
import {
  AlertRuleSchema,
  AlertSchema,
  AlertSeverity,
  AlertState,
  ColumnDistanceConditionSchema,
  DriftShareConditionSchema,
  MissingRateConditionSchema,
  PerformanceConditionSchema,
  PerformanceMetric,
  type Alert,
  type AlertRule,
} from '@trellis/proto';
import type { MonitorEntity } from '../monitors/monitor.entity';
import type { AlertCondition, PerformanceMetricName } from './alert-condition';
import type { AlertEntity, AlertRuleEntity } from './alert.entity';
import type { AlertStateName } from './alert-state';

const SEVERITIES: Record<SeverityName, AlertSeverity> = { info: AlertSeverity.INFO, warning: AlertSeverity.WARNING, critical: AlertSeverity.CRITICAL };
const STATES: Record<AlertStateName, AlertState> = { pending: AlertState.PENDING, firing: AlertState.FIRING, resolved: AlertState.RESOLVED };
const METRICS: Record<PerformanceMetricName, PerformanceMetric> = {
  accuracy: PerformanceMetric.ACCURACY,
  precision: PerformanceMetric.PRECISION,
  recall: PerformanceMetric.RECALL,
  f1: PerformanceMetric.F1,
  mae: PerformanceMetric.MAE,
  rmse: PerformanceMetric.RMSE,
};

const byValue = <K extends string, V>(table: Record<K, V>) => new Map([...Object.entries(table)].map(([key, value]) => [value as V, key as K]));
const SEVERITY_NAMES = byValue(SEVERITIES);
const STATE_NAMES = byValue(STATES);
const METRIC_NAMES = byValue(METRICS);

/** A rule's severity; UNSPECIFIED is WARNING (resources.proto). */
export function severityFromProto(severity: AlertSeverity): SeverityName {
  if (severity === AlertSeverity.UNSPECIFIED) return 'warning';
  const name = SEVERITY_NAMES.get(severity);
  if (!name) throw new InvalidArgumentError(`${severity} is not an alert severity`, 'rule.severity');
  return name;
}

/** ListAlerts' states filter; UNSPECIFIED or an unknown number is INVALID_ARGUMENT. */
export function stateFromProto(state: AlertState): AlertStateName {
  const name = STATE_NAMES.get(state);
  if (!name) throw new InvalidArgumentError(`${state} is not an alert state: name PENDING, FIRING or RESOLVED`, 'states');
  return name;
}

/** The rule's one condition as stored; its bounds are checked by AlertRuleService. INVALID_ARGUMENT without one. */
export function conditionFromProto(rule: AlertRule): AlertCondition {
  const condition = rule.condition;
  switch (condition.case) {
    case 'driftShare':
      return { kind: 'drift_share', atLeast: condition.value.atLeast };
    case 'columnDistance':
      return { kind: 'column_distance', column: condition.value.column, above: condition.value.above, below: condition.value.below };
    case 'missingRate':
      return { kind: 'missing_rate', column: condition.value.column, above: condition.value.above };
    case 'performance': {
      const metric = METRIC_NAMES.get(condition.value.metric);
      if (!metric) throw new InvalidArgumentError('name a metric: ACCURACY, PRECISION, RECALL, F1, MAE or RMSE', 'rule.performance.metric');
      return { kind: 'performance', metric, below: condition.value.below, above: condition.value.above, minLabeledRows: Number(condition.value.minLabeledRows) };
    }
    default:
      throw new InvalidArgumentError('is required: exactly one of drift_share, column_distance, performance and missing_rate', 'rule.condition');
  }
}

/** The proto of a stored rule. */
export function ruleToProto(rule: AlertRuleEntity): AlertRule {
  return create(AlertRuleSchema, {
    id: rule.id,
    monitorId: rule.monitorId,
    name: rule.name,
    condition: conditionToProto(rule.condition),
    forSeconds: BigInt(rule.forSeconds),
    severity: SEVERITIES[rule.severity],
    notifiers: rule.notifiers,
    createTime: timestampFromMs(rule.createdAt),
  });
}

function conditionToProto(condition: AlertCondition): AlertRule['condition'] {
  switch (condition.kind) {
    case 'drift_share':
      return { case: 'driftShare', value: create(DriftShareConditionSchema, { atLeast: condition.atLeast }) };
    case 'column_distance':
      return { case: 'columnDistance', value: create(ColumnDistanceConditionSchema, { column: condition.column, above: condition.above, below: condition.below }) };
    case 'missing_rate':
      return { case: 'missingRate', value: create(MissingRateConditionSchema, { column: condition.column, above: condition.above }) };
    case 'performance':
      return {
        case: 'performance',
        value: create(PerformanceConditionSchema, {
          metric: METRICS[condition.metric],
          below: condition.below,
          above: condition.above,
          minLabeledRows: BigInt(condition.minLabeledRows),
        }),
      };
  }
}

/** The proto of a stored alert. */
export function alertToProto(alert: AlertEntity): Alert {
  return create(AlertSchema, {
    id: alert.id,
    ruleId: alert.ruleId,
    ruleName: alert.ruleName,
    monitorId: alert.monitorId,
    projectId: alert.projectId,
    state: STATES[alert.state],
    severity: SEVERITIES[alert.severity],
    pendingTime: timestampFromMs(alert.pendingAt),
    firingTime: alert.firingAt === null ? undefined : timestampFromMs(alert.firingAt),
    resolvedTime: alert.resolvedAt === null ? undefined : timestampFromMs(alert.resolvedAt),
    value: alert.value,
    windowNumber: BigInt(alert.windowNumber),
    summary: alert.summary,
  });
}

/**
 * What a notifier is given when an alert fires or resolves: one id per alert and change, a title
 * such as "churn-drift: dataset drift 0.67 >= 0.5 on endpoint churn", and labels to route by.
 */
export function notificationOf(alert: AlertEntity, monitor: MonitorEntity, change: 'firing' | 'resolved'): Notification {
  const at = change === 'firing' ? alert.pendingAt : (alert.resolvedAt ?? alert.pendingAt);
  const verb = change === 'firing' ? '' : ' resolved';
  return {
    id: `${alert.id}:${change}`,
    status: change,
    severity: alert.severity,
    title: `${alert.ruleName}${verb}: ${alert.summary} on endpoint ${monitor.endpointName}`,
    summary: `monitor ${monitor.name}, window ${alert.windowNumber}`,
    source: `monitoring/monitor/${monitor.name}`,
    labels: { project: monitor.projectId, monitor: monitor.name, endpoint: monitor.endpointName, rule: alert.ruleName },
    at: new Date(at),
  };
}
