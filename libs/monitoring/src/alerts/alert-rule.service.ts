import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Caller,
  checkLength,
  checkNoControlCharacters,
  checkRequired,
  decodePageToken,
  encodePageToken,
  excerpt,
  FailedPreconditionError,
  InjectPluginInstances,
  InvalidArgumentError,
  NotFoundError,
  pageSizeOf,
  PluginInstances,
  ResourceExhaustedError,
} from '@trellis/platform';
import type { AlertSeverity } from '@trellis/plugin-sdk';
import { randomUUID } from 'node:crypto';
import type { MonitorEntity } from '../monitors/monitor.entity';
import { CLASSIFICATION_METRICS, type AlertCondition } from './alert-condition';
import type { AlertEntity, AlertRuleEntity } from './alert.entity';
import { AlertEvaluator } from './alert-evaluator';
import { AlertRepository } from './alert.repository';
import type { AlertStateName } from './alert-state';

/** The resource kind of alert rules and alerts in permission rules and audit records. */
export const ALERT_KIND = 'Alert';
/** The kind a rule's monitor is checked as: one the caller may not read is NOT_FOUND. */
const MONITOR_KIND = 'Monitor';

/** The most rules one monitor holds (ListAlertRules' comment). */
export const MAX_RULES_PER_MONITOR = 1000;
/** The longest for_seconds: 30 days. */
export const MAX_FOR_SECONDS = 2_592_000;
/** The most notifiers a rule names. */
const MAX_NOTIFIERS = 16;
/** The largest min_labeled_rows: more rows than any window holds. */
const MAX_MIN_LABELED_ROWS = 1_000_000_000;

/** What a new rule needs. */
export interface NewAlertRule {
  monitorId: string;
  name: string;
  condition: AlertCondition;
  forSeconds: number;
  severity: AlertSeverity;
  notifiers: string[];
}

/** Which of a project's alerts to list, and which page. */
export interface AlertListQuery {
  projectId: string;
  /** Empty for every monitor's. */
  monitorId: string;
  /** Empty for every state. */
  states: AlertStateName[];
  pageSize: number;
  pageToken: string;
}

/** A page position: `<pending ms>:<id>`. */
const POSITION = /^(\d{1,16}):([0-9a-f-]{36})$/;

/** Alert rules of monitors and the alerts they raised: who may do what, and the rules' checks. */
@Injectable()
export class AlertRuleService {
  constructor(
    private readonly repository: AlertRepository,
    private readonly evaluator: AlertEvaluator,
    private readonly audit: AuditRecorder,
    @InjectPluginInstances('notifier') private readonly notifiers: PluginInstances<'notifier'>,
  ) {}

  /** Stores a new rule of a monitor the caller may edit, once its condition, bounds and notifiers check out. */
  async create(caller: Caller, input: NewAlertRule): Promise<AlertRuleEntity> {
    checkRequired(input.monitorId, 'rule.monitor_id');
    checkRequired(input.name.trim(), 'rule.name');
    checkLength(input.name, 128, 'rule.name');
    checkNoControlCharacters(input.name, 'rule.name');
    checkCondition(input.condition);
    if (!Number.isInteger(input.forSeconds) || input.forSeconds < 0 || input.forSeconds > MAX_FOR_SECONDS) {
      throw new InvalidArgumentError(`is ${input.forSeconds}; it must be 0 to ${MAX_FOR_SECONDS} (30 days)`, 'rule.for_seconds');
    }
    this.checkNotifiers(input.notifiers);
    return this.repository.transaction(async (tx) => {
      const monitor = visible(caller, await this.repository.lockMonitor(tx, input.monitorId), input.monitorId);
      caller.assert('create', ALERT_KIND, { projectId: monitor.projectId, name: input.name });
      checkMonitorFits(monitor, input.condition);
      if (await this.repository.ruleNameTaken(tx, monitor.id, input.name)) {
        throw new AlreadyExistsError(`monitor ${monitor.name} already has an alert rule named "${excerpt(input.name)}"`, { reason: 'ALERT_RULE_NAME_TAKEN' });
      }
      if ((await this.repository.countRules(tx, monitor.id)) >= MAX_RULES_PER_MONITOR) {
        throw new ResourceExhaustedError(`monitor ${monitor.name} holds ${MAX_RULES_PER_MONITOR} alert rules, the most one may; delete one first`, undefined, { reason: 'ALERT_RULES_LIMIT_REACHED' });
      }
      const rule: AlertRuleEntity = { id: randomUUID(), ...input, projectId: monitor.projectId, createdAt: Date.now() };
      await this.repository.insertRule(tx, rule);
      caller.assert('create', ALERT_KIND, { projectId: rule.projectId, id: rule.id, name: rule.name });
      await this.audit.recordIn(tx, caller, { id: rule.id, projectId: rule.projectId });
      return rule;
    });
  }

  /** The rules of a monitor the caller may read, in name order. */
  async list(caller: Caller, monitorId: string): Promise<AlertRuleEntity[]> {
    checkRequired(monitorId, 'monitor_id');
    const monitor = visible(caller, await this.repository.monitor(monitorId), monitorId);
    caller.assert('read', ALERT_KIND, { projectId: monitor.projectId });
    return this.repository.rules(monitor.id);
  }

  /** Removes a rule; its open alert is resolved (announced if it had fired). */
  async delete(caller: Caller, ruleId: string): Promise<void> {
    checkRequired(ruleId, 'rule_id');
    await this.repository.transaction(async (tx) => {
      const rule = await this.repository.rule(tx, ruleId);
      const monitor = rule && (await this.repository.lockMonitor(tx, rule.monitorId));
      if (!rule || !monitor || !caller.can('read', ALERT_KIND, { projectId: rule.projectId, id: rule.id })) {
        throw new NotFoundError(`alert rule ${excerpt(ruleId)} not found`, { reason: 'ALERT_RULE_NOT_FOUND' });
      }
      caller.assert('delete', ALERT_KIND, { projectId: rule.projectId, id: rule.id, name: rule.name });
      await this.evaluator.resolveForDeletedRule(tx, monitor, rule, Date.now());
      await this.repository.deleteRule(tx, rule.id);
      await this.audit.recordIn(tx, caller);
    });
  }

  /** A page of the project's alerts, newest first. */
  async alerts(caller: Caller, query: AlertListQuery): Promise<{ alerts: AlertEntity[]; nextPageToken: string }> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', ALERT_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const states = [...new Set(query.states)].sort();
    const listing = { projectId: query.projectId, monitorId: query.monitorId, states: states.join(',') };
    const token = decodePageToken(query.pageToken, listing, POSITION);
    const match = token === undefined ? undefined : POSITION.exec(token);
    const after = match ? { pendingAt: Number(match[1]), id: match[2] } : undefined;
    const rows = await this.repository.alertPage({ projectId: query.projectId, monitorId: query.monitorId, states }, after, size + 1);
    const alerts = rows.slice(0, size);
    const last = alerts[alerts.length - 1];
    return { alerts, nextPageToken: rows.length > size ? encodePageToken(`${last.pendingAt}:${last.id}`, listing) : '' };
  }

  private checkNotifiers(notifiers: readonly string[]): void {
    if (notifiers.length > MAX_NOTIFIERS) throw new InvalidArgumentError(`names ${notifiers.length} notifiers; the limit is ${MAX_NOTIFIERS}`, 'rule.notifiers');
    notifiers.forEach((name, index) => {
      const field = `rule.notifiers[${index}]`;
      checkRequired(name, field);
      if (notifiers.indexOf(name) !== index) throw new InvalidArgumentError(`names "${excerpt(name)}" twice`, field);
      if (!this.notifiers.has(name)) {
        const names = this.notifiers.names();
        const there = names.length ? `there are ${names.join(', ')}` : 'there are none (add a notifier instance, such as notifier-webhook, first)';
        throw new FailedPreconditionError(`${field}: no notifier instance is named "${excerpt(name)}"; ${there}`, { reason: 'NOTIFIER_NOT_FOUND' });
      }
    });
  }
}

/** The monitor, if the caller may read it; NOT_FOUND otherwise, as GetMonitor answers. */
function visible(caller: Caller, monitor: MonitorEntity | null, id: string): MonitorEntity {
  if (!monitor || !caller.can('read', MONITOR_KIND, { projectId: monitor.projectId, id: monitor.id })) {
    throw new NotFoundError(`monitor ${excerpt(id)} not found`, { reason: 'MONITOR_NOT_FOUND' });
  }
  return monitor;
}

/** INVALID_ARGUMENT naming the field for a bound out of its range. */
export function checkCondition(condition: AlertCondition): void {
  const inRange = (value: number, field: string, low: number, high: number, lowOpen: boolean, says: string) => {
    if (!Number.isFinite(value) || (lowOpen ? value <= low : value < low) || value > high) throw new InvalidArgumentError(`is ${value}; it must be ${says}`, field);
  };
  switch (condition.kind) {
    case 'drift_share':
      return inRange(condition.atLeast, 'rule.drift_share.at_least', 0, 1, true, 'above 0 and at most 1');
    case 'column_distance':
      checkRequired(condition.column, 'rule.column_distance.column');
      inRange(condition.above, 'rule.column_distance.above', 0, Number.MAX_VALUE, false, 'a distance of 0 or more (0 for none)');
      inRange(condition.below, 'rule.column_distance.below', 0, 1, false, 'a p-value from 0 to 1 (0 for none)');
      if (condition.above === 0 && condition.below === 0) throw new InvalidArgumentError('set above (a distance) or below (a p-value)', 'rule.column_distance');
      return;
    case 'missing_rate':
      return inRange(condition.above, 'rule.missing_rate.above', 0, 1, false, 'a share from 0 to 1');
    case 'performance': {
      const low = CLASSIFICATION_METRICS.includes(condition.metric);
      const [bound, other] = low ? (['below', 'above'] as const) : (['above', 'below'] as const);
      if (condition[other] !== 0) throw new InvalidArgumentError(`must be 0: ${condition.metric} alerts ${low ? 'below' : 'above'} a bound`, `rule.performance.${other}`);
      if (low) inRange(condition.below, 'rule.performance.below', 0, 1, true, `above 0 and at most 1 (${condition.metric} below it holds)`);
      else inRange(condition.above, `rule.performance.${bound}`, 0, Number.MAX_VALUE, true, `above 0 (${condition.metric} above it holds)`);
      if (!Number.isInteger(condition.minLabeledRows) || condition.minLabeledRows < 0 || condition.minLabeledRows > MAX_MIN_LABELED_ROWS) {
        throw new InvalidArgumentError(`is ${condition.minLabeledRows}; it must be 0 (for 1) to ${MAX_MIN_LABELED_ROWS}`, 'rule.performance.min_labeled_rows');
      }
      return;
    }
  }
}

/** FAILED_PRECONDITION when the condition watches what the monitor does not measure. */
function checkMonitorFits(monitor: MonitorEntity, condition: AlertCondition): void {
  const column = condition.kind === 'column_distance' || condition.kind === 'missing_rate' ? condition.column : '';
  // A monitor whose reference is still filling has no columns yet: its rules are judged once it does.
  if (column !== '' && monitor.monitoredColumns.length > 0 && !monitor.monitoredColumns.some(({ name }) => name === column)) {
    throw new FailedPreconditionError(`monitor ${monitor.name} does not score a column "${excerpt(column)}"; it scores ${monitor.monitoredColumns.map(({ name }) => name).join(', ')}`, {
      reason: 'COLUMN_NOT_MONITORED',
    });
  }
  if (condition.kind === 'performance') {
    if (!monitor.performance) throw new FailedPreconditionError(`monitor ${monitor.name} has no performance spec, so it has no ${condition.metric}`, { reason: 'NO_PERFORMANCE' });
    const classification = CLASSIFICATION_METRICS.includes(condition.metric);
    if (classification !== (monitor.performance.task === 'classification')) {
      throw new InvalidArgumentError(`${condition.metric} is not a metric of a ${monitor.performance.task} monitor`, 'rule.performance.metric');
    }
  }
}
