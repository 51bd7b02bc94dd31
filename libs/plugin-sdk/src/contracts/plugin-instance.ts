/** What an instance says about its backend when the host asks: reachable and working, or why not. */
export type InstanceHealth = { ok: true } | { ok: false; message: string };

/** What every plugin instance may do besides its kind's contract. */
export interface PluginInstance {
  /**
   * Releases what the instance holds (connections, file handles, timers). The host calls it once,
   * at shutdown or when the instance is removed, after aborting `ctx.signal`.
   */
  close?(): Promise<void> | void;
  /**
   * Whether the backend answers right now (a bucket is reachable, a cluster's API answers). The host
   * calls it for `/readyz` and when a project chooses the instance, and gives up after a few
   * seconds; keep it cheap, and never put a secret in the message. Throwing counts as
   * `{ ok: false }` with the error's message. Without it, an instance that was created counts as healthy.
   */
  health?(): Promise<InstanceHealth> | InstanceHealth;
}
