/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (at once when it already has).
 * Never rejects, and leaves no timer or listener behind once resolved, so an aborted pause never
 * keeps a process alive. For poll loops that must end promptly when their signal aborts.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Settles as `wait` does, or resolves as soon as `signal` aborts (at once when it already has):
 * waiting for a change that an abort must cut short.
 */
export function raceAbort(wait: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return wait;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = () => resolve();
    signal.addEventListener('abort', stop, { once: true });
    wait.then(
      () => {
        signal.removeEventListener('abort', stop);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(error);
      },
    );
  });
}
