/** How long to wait between tries: `initialMs`, then times `multiplier` after each, up to `maxMs`, less up to `jitter` of it at random. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** The share (0 to 1) of each delay taken off at random, so that many senders do not retry in step. */
  jitter: number;
}

/** The wait before try `attempt + 1` after try `attempt` (from 1) failed; `random` gives a number in [0, 1). */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (attempt - 1));
  return Math.round(base * (1 - backoff.jitter * random()));
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds (delay seconds or an HTTP date, counted
 * from `now`), or undefined when there is no header or it is neither.
 */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; Date.parse alone would take "-5" for a year.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}
