import type { PluginInstance } from './plugin-instance';

/** How urgent an alert is. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** An alert to deliver: a monitor fired or resolved. */
export interface Alert {
  /** Stable per alert and state change: a receiver that sees an id twice drops the second. */
  id: string;
  /** Whether the condition began or ended. */
  status: 'firing' | 'resolved';
  /** How urgent it is. */
  severity: AlertSeverity;
  /** One line for people. */
  title: string;
  /** More detail, plain text. */
  summary?: string;
  /** What raised it (`monitoring/monitor/churn-drift`). */
  source: string;
  /** Labels to route and group by (project, model). */
  labels: Readonly<Record<string, string>>;
  /** Where a person looks into it. */
  url?: string;
  /** When the condition began (firing) or ended (resolved). */
  at: Date;
}

/**
 * Notifier contract, v1: delivers alerts to people or systems. `deliver` resolves once the receiver
 * has accepted the alert and rejects otherwise; the host retries, so delivery is at least once.
 */
export interface Notifier extends PluginInstance {
  /** Sends the alert. */
  deliver(alert: Alert, options?: { signal?: AbortSignal }): Promise<void>;
}
