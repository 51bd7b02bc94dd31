import { epochMillis } from '@trellis/platform';
import type { AlertSeverity } from '@trellis/plugin-sdk';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AlertCondition } from './alert-condition';
import type { AlertStateName } from './alert-state';

/** A rule that says when a monitor's windows raise an alert, and which notifier instances hear of it. */
@Entity('alert_rules')
export class AlertRuleEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  /** The monitor's project, so that permission checks need no second read. */
  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** Unique per monitor. */
  @Column('varchar', { length: 128 })
  name!: string;

  @Column('simple-json')
  condition!: AlertCondition;

  @Column('bigint', { name: 'for_seconds', transformer: epochMillis })
  forSeconds!: number;

  @Column('varchar', { length: 16 })
  severity!: AlertSeverity;

  /** Names of notifier plugin instances. */
  @Column('simple-json')
  notifiers!: string[];

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;
}

/** One episode of a rule's condition: pending, then firing, then resolved. */
@Entity('alerts')
export class AlertEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'rule_id', length: 36 })
  ruleId!: string;

  @Column('varchar', { name: 'rule_name', length: 128 })
  ruleName!: string;

  @Column('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 16 })
  state!: AlertStateName;

  /** The rule's id while the alert is open, null once resolved: a unique column, so a rule has one open alert at most. */
  @Column('varchar', { name: 'open_rule_id', length: 36, nullable: true })
  openRuleId!: string | null;

  @Column('varchar', { length: 16 })
  severity!: AlertSeverity;

  @Column('bigint', { name: 'pending_at', transformer: epochMillis })
  pendingAt!: number;

  @Column('bigint', { name: 'firing_at', nullable: true, transformer: epochMillis })
  firingAt!: number | null;

  @Column('bigint', { name: 'resolved_at', nullable: true, transformer: epochMillis })
  resolvedAt!: number | null;

  /** The last value its condition saw. */
  @Column('double precision')
  value!: number;

  @Column('bigint', { name: 'window_number', transformer: epochMillis })
  windowNumber!: number;

  @Column('text')
  summary!: string;
}

/** What became of a delivery: waiting (for its first try or a retry), delivered, or given up on. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One alert state change to deliver to one notifier instance. */
@Entity('alert_deliveries')
export class AlertDeliveryEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'alert_id', length: 36 })
  alertId!: string;

  @Column('varchar', { name: 'monitor_id', length: 36 })
  monitorId!: string;

  @Column('varchar', { length: 128 })
  notifier!: string;

  /** The change it announces; 'firing' sorts before 'resolved', the order they are delivered in. */
  @Column('varchar', { length: 16 })
  state!: 'firing' | 'resolved';

  /** The plugin-sdk `Alert` to deliver, as JSON (`at` as ISO 8601), fixed when the change commits. */
  @Column('text')
  payload!: string;

  @Column('varchar', { length: 16 })
  status!: DeliveryStatus;

  @Column('integer')
  attempts!: number;

  @Column('bigint', { name: 'next_attempt_at', transformer: epochMillis })
  nextAttemptAt!: number;

  /** Why the last try failed; empty when none did. */
  @Column('text', { name: 'last_error' })
  lastError!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'delivered_at', nullable: true, transformer: epochMillis })
  deliveredAt!: number | null;
}
