/** What every plugin instance may do besides its kind's contract. */
export interface PluginInstance {
  /**
   * Releases what the instance holds (connections, file handles, timers). The host calls it once,
   * at shutdown or when the instance is removed, after aborting `ctx.signal`.
   */
  close?(): Promise<void> | void;
}
