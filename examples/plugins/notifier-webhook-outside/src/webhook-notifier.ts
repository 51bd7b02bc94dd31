import type { Alert, Notifier } from '@trellis/plugin-sdk';

/** The notifier contract (v1) over HTTP: one POST of the alert as JSON per delivery. */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async deliver(alert: Alert, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...alert, at: alert.at.toISOString() }),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    await response.arrayBuffer();
    // The host retries a rejected delivery, so a refusal says what the receiver answered.
    if (!response.ok) throw new Error(`the webhook at ${new URL(this.url).origin} answered ${response.status} ${response.statusText}`);
  }
}
