/** A promise that settles at the next change of something, made anew at each change. */
export class Changes {
  /** Whether anyone took `next` since the last change: a change that nobody waits for need not be looked into. */
  awaited = false;
  private promise!: Promise<void>;
  private wake!: () => void;

  constructor() {
    this.renew();
  }

  get next(): Promise<void> {
    this.awaited = true;
    return this.promise;
  }

  notify(): void {
    const wake = this.wake;
    this.renew();
    wake();
  }

  private renew(): void {
    this.awaited = false;
    this.promise = new Promise((resolve) => (this.wake = resolve));
  }
}

/**
 * `run` made safe to call at any time: one run at a time, and a call during a run gets one more run
 * after it (shared by every such call), so no call misses what changed before it.
 */
export function coalesced<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let again: Promise<T> | undefined;
  const next = (): Promise<T> => {
    if (!running) {
      running = run().finally(() => (running = undefined));
      return running;
    }
    again ??= running
      .catch(() => undefined)
      .then(() => {
        again = undefined;
        return next();
      });
    return again;
  };
  return next;
}
