import { create } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { Outbox } from '@trellis/platform';
import { AlertEventSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { monitoringEvents } from '../monitoring.events';
import type { MonitorEntity } from '../monitors/monitor.entity';
import type { WindowPerformance } from '../performance/window-performance';
import type { ScoredWindow } from '../windows/scored-window';
import { judgedByWindows, judgePerformanceCondition, judgeWindowCondition, type Judged } from './alert-condition';
import { AlertDeliveryEntity, AlertEntity, type AlertRuleEntity } from './alert.entity';
import { alertToProto, notificationOf } from './alert.mapping';
import { AlertRepository } from './alert.repository';
import { transition } from './alert-state';
import { DeliverySignal } from './delivery-signal';

/** A window as a rule judges it: its number and close time. */
interface JudgedWindow {
  number: number;
  closedAtMs: number;
}

/**
 * Judges a monitor's alert rules in the transaction that stores a window (drift and missing-value
 * rules) or its performance (performance rules), and moves each rule's alert through PENDING,
 * FIRING and RESOLVED. Firing, and resolving after firing, publish an AlertEvent and write one
 * delivery per notifier of the rule in the same transaction.
 */
@Injectable()
export class AlertEvaluator {
  constructor(
    private readonly repository: AlertRepository,
    private readonly outbox: Outbox,
    private readonly signal: DeliverySignal,
  ) {}

  /** Judges the monitor's drift and missing-value rules by a window just scored, in `manager`'s transaction. */
  async judgeWindow(manager: EntityManager, monitor: MonitorEntity, window: ScoredWindow): Promise<void> {
    for (const rule of await this.repository.rules(monitor.id, manager)) {
      if (!judgedByWindows(rule.condition)) continue;
      const judged = judgeWindowCondition(rule.condition, window);
      if (judged) await this.apply(manager, monitor, rule, judged, window);
    }
  }

  /** Judges the monitor's performance rules by a window's performance, in `manager`'s transaction. */
  async judgePerformance(manager: EntityManager, monitor: MonitorEntity, window: JudgedWindow, performance: WindowPerformance): Promise<void> {
    for (const rule of await this.repository.rules(monitor.id, manager)) {
      if (judgedByWindows(rule.condition)) continue;
      const judged = judgePerformanceCondition(rule.condition, performance);
      if (judged) await this.apply(manager, monitor, rule, judged, window);
    }
  }

  /** Resolves the rule's open alert at `atMs` because the rule is going away; one that fired is announced. */
  async resolveForDeletedRule(manager: EntityManager, monitor: MonitorEntity, rule: AlertRuleEntity, atMs: number): Promise<void> {
    const open = await this.repository.openAlert(manager, rule.id);
    if (!open) return;
    const fired = open.state === 'firing';
    Object.assign(open, { state: 'resolved', openRuleId: null, resolvedAt: atMs, summary: `rule ${rule.name} deleted; last: ${open.summary}` });
    await this.repository.updateAlert(manager, open);
    if (fired) await this.announce(manager, monitor, rule, open, 'resolved');
  }

  private async apply(manager: EntityManager, monitor: MonitorEntity, rule: AlertRuleEntity, judged: Judged, window: JudgedWindow): Promise<void> {
    const open = (await this.repository.openAlert(manager, rule.id)) ?? undefined;
    const step = transition(rule.forSeconds, open && { state: open.state === 'firing' ? 'firing' : 'pending', pendingAtMs: open.pendingAt, windowNumber: open.windowNumber }, { holds: judged.holds, windowNumber: window.number, atMs: window.closedAtMs });
    const seen = { value: judged.value, windowNumber: window.number, summary: judged.summary };
    if (step.kind === 'open') {
      const alert: AlertEntity = {
        id: randomUUID(),
        ruleId: rule.id,
        ruleName: rule.name,
        monitorId: monitor.id,
        projectId: monitor.projectId,
        state: step.firing ? 'firing' : 'pending',
        openRuleId: rule.id,
        severity: rule.severity,
        pendingAt: window.closedAtMs,
        firingAt: step.firing ? window.closedAtMs : null,
        resolvedAt: null,
        ...seen,
      };
      await this.repository.insertAlert(manager, alert);
      if (step.firing) await this.announce(manager, monitor, rule, alert, 'firing');
      return;
    }
    if (!open || step.kind === 'none') return;
    Object.assign(open, seen);
    if (step.kind === 'fire') Object.assign(open, { state: 'firing', firingAt: window.closedAtMs });
    if (step.kind === 'resolve') Object.assign(open, { state: 'resolved', openRuleId: null, resolvedAt: window.closedAtMs });
    await this.repository.updateAlert(manager, open);
    if (step.kind === 'fire') await this.announce(manager, monitor, rule, open, 'firing');
    if (step.kind === 'resolve' && step.fired) await this.announce(manager, monitor, rule, open, 'resolved');
  }

  /** Publishes the change and writes a delivery of it to each of the rule's notifiers. */
  private async announce(manager: EntityManager, monitor: MonitorEntity, rule: AlertRuleEntity, alert: AlertEntity, change: 'firing' | 'resolved'): Promise<void> {
    await this.outbox.publish(manager, monitoringEvents, {
      subject: change === 'firing' ? 'trellis.monitoring.v1.alert.firing' : 'trellis.monitoring.v1.alert.resolved',
      message: create(AlertEventSchema, { alert: alertToProto(alert), monitorName: monitor.name, endpointName: monitor.endpointName }),
      projectId: monitor.projectId,
    });
    if (rule.notifiers.length === 0) return;
    const payload = JSON.stringify(notificationOf(alert, monitor, change));
    const now = Date.now();
    await this.repository.insertDeliveries(
      manager,
      rule.notifiers.map(
        (notifier): AlertDeliveryEntity => ({
          id: randomUUID(),
          alertId: alert.id,
          monitorId: monitor.id,
          notifier,
          state: change,
          payload,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lastError: '',
          createdAt: now,
          deliveredAt: null,
        }),
      ),
    );
    this.signal.wakeAfterCommit(manager);
  }
}
