import type { Alert } from '@trellis/plugin-sdk';

/** The JSON body of a delivery: the alert's fields in this order, `at` in ISO 8601; `summary` and `url` only when the alert has them. */
export interface WebhookAlertBody {
  id: string;
  status: Alert['status'];
  severity: Alert['severity'];
  title: string;
  summary?: string;
  source: string;
  labels: Readonly<Record<string, string>>;
  url?: string;
  at: string;
}

/** `alert` as the body a receiver gets. */
export function webhookAlertBody(alert: Alert): WebhookAlertBody {
  const { id, status, severity, title, summary, source, labels, url, at } = alert;
  return { id, status, severity, title, ...(summary === undefined ? {} : { summary }), source, labels, ...(url === undefined ? {} : { url }), at: at.toISOString() };
}
