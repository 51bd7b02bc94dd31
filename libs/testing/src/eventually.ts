import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `check` until it stops throwing (and returns what it returned), for outcomes that arrive
 * asynchronously: an event delivered, a row written. After `timeoutMs` (default 10 s) it throws
 * the last failure, so the test reports what was still wrong.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = 10_000, intervalMs = 25 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await sleep(intervalMs);
  }
}
