import type { Alert, Notifier } from '@trellis/plugin-sdk';

/** Where and how a `WebhookNotifier` posts. */
export interface WebhookOptions {
  url: string;
  token?: string;
  timeoutMs: number;
}

/**
 * Posts each alert as JSON (its fields, `at` as an ISO 8601 string) with node's fetch. A delivery
 * succeeds on a 2xx answer and fails on anything else, a network error or the timeout; the host
 * retries, and the receiver drops an alert whose `id` it has seen (also sent as `Idempotency-Key`).
 */
export class WebhookNotifier implements Notifier {
  constructor(private readonly options: WebhookOptions) {}

  async deliver(alert: Alert, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': alert.id,
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: JSON.stringify({ ...alert, at: alert.at.toISOString() }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    // Read to the end, so the connection is free for the next delivery. Errors name the host only:
    // a webhook's path often is its secret.
    const answer = (await response.text()).slice(0, 200);
    if (!response.ok) throw new Error(`the webhook at ${new URL(this.options.url).host} answered ${response.status} to alert ${alert.id}${answer ? `: ${answer}` : ''}`);
  }
}
