/**
 * Wakes a waiting worker: `wait` resolves after `ms`, on `wake()`, or when `signal` aborts, and
 * at once if `wake()` came since the last wait, so a wake-up between two waits is never lost.
 */
export class Wakeup {
  private woken = false;
  private resolveWait?: () => void;

  /** Tells the worker there may be work. */
  wake(): void {
    this.woken = true;
    this.resolveWait?.();
  }

  /** Waits until woken, `ms` passed, or `signal` aborted. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.woken || signal.aborted) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.resolveWait = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.resolveWait = done;
    });
  }
}
