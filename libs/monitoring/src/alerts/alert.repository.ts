import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { Brackets, DataSource, In, LessThanOrEqual, type EntityManager } from 'typeorm';
import { MonitorEntity } from '../monitors/monitor.entity';
import { AlertDeliveryEntity, AlertEntity, AlertRuleEntity } from './alert.entity';
import type { AlertStateName } from './alert-state';

/** Reads and writes alert rules, alerts and deliveries; the only part of the feature that knows the database. */
@Injectable()
export class AlertRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The monitor a rule belongs to, its row locked until `tx` ends on PostgreSQL, so its rules change one call at a time. */
  lockMonitor(tx: EntityManager, id: string): Promise<MonitorEntity | null> {
    return tx.findOne(MonitorEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<MonitorEntity>() });
  }

  /** The monitor, read in a transaction of its own (on SQLite every caller shares one connection). */
  monitor(id: string): Promise<MonitorEntity | null> {
    return this.transaction((tx) => tx.findOneBy(MonitorEntity, { id }));
  }

  ruleNameTaken(tx: EntityManager, monitorId: string, name: string): Promise<boolean> {
    return tx.existsBy(AlertRuleEntity, { monitorId, name });
  }

  countRules(tx: EntityManager, monitorId: string): Promise<number> {
    return tx.countBy(AlertRuleEntity, { monitorId });
  }

  async insertRule(tx: EntityManager, rule: AlertRuleEntity): Promise<void> {
    await tx.insert(AlertRuleEntity, rule);
  }

  /** The monitor's rules in name order, in `tx` (the caller's transaction) or one of their own. */
  rules(monitorId: string, tx?: EntityManager): Promise<AlertRuleEntity[]> {
    const read = (manager: EntityManager) => manager.find(AlertRuleEntity, { where: { monitorId }, order: { name: 'ASC' } });
    return tx ? read(tx) : this.transaction(read);
  }

  rule(tx: EntityManager, id: string): Promise<AlertRuleEntity | null> {
    return tx.findOneBy(AlertRuleEntity, { id });
  }

  async deleteRule(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(AlertRuleEntity, { id });
  }

  /** The rule's alert that is not resolved, if any. */
  openAlert(tx: EntityManager, ruleId: string): Promise<AlertEntity | null> {
    return tx.findOneBy(AlertEntity, { openRuleId: ruleId });
  }

  async insertAlert(tx: EntityManager, alert: AlertEntity): Promise<void> {
    await tx.insert(AlertEntity, alert);
  }

  async updateAlert(tx: EntityManager, alert: AlertEntity): Promise<void> {
    const { id, ...changes } = alert;
    await tx.update(AlertEntity, { id }, changes);
  }

  async insertDeliveries(tx: EntityManager, deliveries: AlertDeliveryEntity[]): Promise<void> {
    if (deliveries.length > 0) await tx.insert(AlertDeliveryEntity, deliveries);
  }

  /**
   * Up to `limit` of a project's alerts, newest first (by pending time, then id), after the
   * position `after` (`<pending ms>:<id>`), of one monitor and in some states when asked.
   */
  alertPage(query: { projectId: string; monitorId: string; states: AlertStateName[] }, after: { pendingAt: number; id: string } | undefined, limit: number): Promise<AlertEntity[]> {
    return this.transaction((tx) => {
      const select = tx.createQueryBuilder(AlertEntity, 'alert').where('alert.project_id = :projectId', { projectId: query.projectId });
      if (query.monitorId !== '') select.andWhere('alert.monitor_id = :monitorId', { monitorId: query.monitorId });
      if (query.states.length > 0) select.andWhere('alert.state IN (:...states)', { states: query.states });
      if (after) {
        select.andWhere(
          new Brackets((position) =>
            position.where('alert.pending_at < :pendingAt', { pendingAt: after.pendingAt }).orWhere('alert.pending_at = :pendingAt AND alert.id < :id', { id: after.id }),
          ),
        );
      }
      return select.orderBy('alert.pending_at', 'DESC').addOrderBy('alert.id', 'DESC').take(limit).getMany();
    });
  }

  /** Removes a monitor's rules, alerts and deliveries. */
  async deleteOfMonitor(tx: EntityManager, monitorId: string): Promise<void> {
    await tx.delete(AlertDeliveryEntity, { monitorId });
    await tx.delete(AlertEntity, { monitorId });
    await tx.delete(AlertRuleEntity, { monitorId });
  }

  /**
   * Up to `limit` deliveries due at `now`, oldest first. A resolved change waits while the firing
   * one of the same alert and notifier is still pending, so a receiver hears them in order.
   */
  async dueDeliveries(now: number, limit: number): Promise<AlertDeliveryEntity[]> {
    return this.transaction(async (tx) => {
      const due = await tx.find(AlertDeliveryEntity, { where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) }, order: { createdAt: 'ASC', state: 'ASC', id: 'ASC' }, take: limit });
      const resolving = due.filter(({ state }) => state === 'resolved');
      if (resolving.length === 0) return due;
      const firing = await tx.find(AlertDeliveryEntity, {
        select: { alertId: true, notifier: true },
        where: { status: 'pending', state: 'firing', alertId: In([...new Set(resolving.map(({ alertId }) => alertId))]) },
      });
      const waiting = new Set(firing.map(({ alertId, notifier }) => `${alertId}\n${notifier}`));
      return due.filter((delivery) => delivery.state === 'firing' || !waiting.has(`${delivery.alertId}\n${delivery.notifier}`));
    });
  }

  async updateDelivery(id: string, changes: Partial<Omit<AlertDeliveryEntity, 'id'>>): Promise<void> {
    await this.transaction((tx) => tx.update(AlertDeliveryEntity, { id }, changes));
  }

  /** The deliveries of an alert, oldest first. */
  deliveriesOf(alertId: string): Promise<AlertDeliveryEntity[]> {
    return this.transaction((tx) => tx.find(AlertDeliveryEntity, { where: { alertId }, order: { createdAt: 'ASC', state: 'ASC' } }));
  }

  /** How many alerts are in each open state. */
  async openCounts(): Promise<Record<'pending' | 'firing', number>> {
    const rows = await this.transaction((tx) =>
      tx
        .createQueryBuilder(AlertEntity, 'alert')
        .select('alert.state', 'state')
        .addSelect('COUNT(*)', 'count')
        .where('alert.open_rule_id IS NOT NULL')
        .groupBy('alert.state')
        .getRawMany<{ state: string; count: string | number }>(),
    );
    const counts = { pending: 0, firing: 0 };
    for (const { state, count } of rows) if (state === 'pending' || state === 'firing') counts[state] = Number(count);
    return counts;
  }
}
