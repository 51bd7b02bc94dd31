import type { InstanceHealth, PluginInstance } from '@trellis/plugin-sdk';

/** How long the kit waits for an instance's `health()` before counting it as failing. */
export const HEALTH_TIMEOUT_MS = 3000;

/**
 * What `instance.health()` says, within {@link HEALTH_TIMEOUT_MS}: ok without a `health()`; a
 * throw, a timeout or an answer of the wrong shape is `{ ok: false }` with a message saying so.
 */
export async function checkHealth(instance: PluginInstance, timeoutMs = HEALTH_TIMEOUT_MS): Promise<InstanceHealth> {
  if (typeof instance.health !== 'function') return { ok: true };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<InstanceHealth>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, message: `its health check did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  try {
    const answer = await Promise.race([Promise.resolve().then(() => instance.health?.()), timeout]);
    if (answer && answer.ok === true) return { ok: true };
    if (answer && answer.ok === false) return { ok: false, message: String(answer.message || 'its health check failed without a message') };
    return { ok: false, message: 'its health check answered neither { ok: true } nor { ok: false, message }' };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
