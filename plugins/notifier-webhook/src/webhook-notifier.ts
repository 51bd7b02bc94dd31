import { type Alert, type Notifier, pause, type PluginLogger } from '@trellis/plugin-sdk';
import { webhookAlertBody } from './alert-body';
import { type Backoff, backoffDelay, retryAfterMs } from './backoff';
import { type DeadLetter, DeadLetterFile, readDeadLetters } from './dead-letters';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

/** The header that carries the alert id, for receivers to drop a delivery they have seen. */
export const DELIVERY_HEADER = 'trellis-delivery';

/** Where and how a `WebhookNotifier` posts, and where it keeps what it gave up on. */
export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
  backoff: Backoff;
  headers: Readonly<Record<string, string>>;
  /** The instance's data directory, which holds its dead letters. */
  dataDir: string;
  logger: PluginLogger;
  /** The instance's own signal: deliveries stop when the host shuts the instance down. */
  signal?: AbortSignal;
}

/** What a spec swaps to drive time: the wait between tries, each try's time limit, the jitter's random source, the clock. */
export interface WebhookDependencies {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  deadline(ms: number): AbortSignal;
  random(): number;
  now(): Date;
}

const realDependencies: WebhookDependencies = { sleep: pause, deadline: (ms) => AbortSignal.timeout(ms), random: Math.random, now: () => new Date() };

/** Answers worth another try besides 5xx: a request timeout and too many requests. */
const RETRIED_STATUSES = new Set([408, 429]);
const EXCERPT_CHARS = 200;

type Attempt = { accepted: true } | { accepted: false; retry: boolean; status?: number; error: string; retryAfterMs?: number };

/**
 * Posts each alert as signed JSON. A 2xx answer is a delivery; 5xx, 408, 429, a network error or the
 * timeout is tried again after a growing wait (or the `Retry-After` the receiver asked for, up to
 * `backoff.maxMs`); any other answer is final. After the last try the alert is appended to the
 * instance's dead letters and `deliver` rejects, naming the receiver's host and its answer.
 */
export class WebhookNotifier implements Notifier {
  private readonly deadLetterFile: DeadLetterFile;
  // Logs and errors name the host only: a webhook's path often is its secret.
  private readonly host: string;

  constructor(
    private readonly options: WebhookOptions,
    private readonly dependencies: WebhookDependencies = realDependencies,
  ) {
    this.deadLetterFile = new DeadLetterFile(options.dataDir);
    this.host = new URL(options.url).host;
  }

  async deliver(alert: Alert, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    const stop = signal && this.options.signal ? AbortSignal.any([signal, this.options.signal]) : (signal ?? this.options.signal);
    stop?.throwIfAborted();
    const body = JSON.stringify(webhookAlertBody(alert));
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(alert.id, body, stop);
      if (result.accepted) return;
      this.options.logger.warn({ alertId: alert.id, receiver: this.host, attempt, status: result.status }, `webhook delivery failed: ${result.error}`);
      if (!result.retry || attempt >= this.options.maxAttempts) return this.giveUp(alert, body, attempt, result);
      await this.dependencies.sleep(this.waitBefore(attempt, result.retryAfterMs), stop);
      stop?.throwIfAborted();
    }
  }

  /** The alerts this instance gave up on, oldest first, for the host to list. */
  deadLetters(): Promise<DeadLetter[]> {
    return readDeadLetters(this.options.dataDir);
  }

  private async post(alertId: string, body: string, stop: AbortSignal | undefined): Promise<Attempt> {
    const timeout = this.dependencies.deadline(this.options.timeoutMs);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          ...this.options.headers,
          'content-type': 'application/json',
          [DELIVERY_HEADER]: alertId,
          [SIGNATURE_HEADER]: signatureHeader(this.options.secret, body, this.dependencies.now()),
        },
        body,
        // A redirect is an answer, not a delivery: following it would send the signed alert elsewhere.
        redirect: 'manual',
        signal: stop ? AbortSignal.any([stop, timeout]) : timeout,
      });
      // Read to the end, so the connection is free for the next delivery.
      const answer = (await response.text()).replace(/\s+/g, ' ').trim().slice(0, EXCERPT_CHARS);
      if (response.ok) return { accepted: true };
      const { status } = response;
      return {
        accepted: false,
        retry: status >= 500 || RETRIED_STATUSES.has(status),
        status,
        error: `answered ${status}${answer ? `: ${answer}` : ''}`,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after'), this.dependencies.now()),
      };
    } catch (error) {
      stop?.throwIfAborted();
      if (timeout.aborted) return { accepted: false, retry: true, error: `did not answer within ${this.options.timeoutMs} ms` };
      return { accepted: false, retry: true, error: `could not be reached (${networkCause(error)})` };
    }
  }

  private waitBefore(attempt: number, askedMs: number | undefined): number {
    const { backoff } = this.options;
    return askedMs === undefined ? backoffDelay(backoff, attempt, this.dependencies.random) : Math.min(askedMs, backoff.maxMs);
  }

  private async giveUp(alert: Alert, body: string, attempts: number, last: Attempt & { accepted: false }): Promise<never> {
    const letter: DeadLetter = {
      alert: JSON.parse(body) as DeadLetter['alert'],
      receiver: this.host,
      attempts,
      ...(last.status === undefined ? {} : { lastStatus: last.status }),
      lastError: last.error,
      at: this.dependencies.now().toISOString(),
    };
    const kept = await this.deadLetterFile.append(letter).then(
      () => 'kept as a dead letter',
      (error: NodeJS.ErrnoException) => `and its dead letter could not be written (${error.code ?? error.message})`,
    );
    this.options.logger.error({ alertId: alert.id, receiver: this.host, attempts, status: last.status }, `webhook delivery given up, ${kept}`);
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    throw new Error(`alert ${alert.id} was not delivered to the webhook at ${this.host} after ${tries}, ${kept}: it ${last.error}`);
  }
}

function networkCause(error: unknown): string {
  const { cause, message } = error as { cause?: { code?: string; message?: string }; message?: string };
  return cause?.code ?? cause?.message ?? message ?? String(error);
}
