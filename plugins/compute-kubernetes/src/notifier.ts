/**
 * Wakes one consumer when something changed: `next()` resolves on the next `notify()`, at once when
 * a change came while nobody waited (so none is missed between two waits), or when `signal` aborts.
 */
export class Notifier {
  private waiters: (() => void)[] = [];
  private missed = false;

  notify(): void {
    if (this.waiters.length === 0) {
      this.missed = true;
      return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  next(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (this.missed) {
      this.missed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
