// One queue per lock key for the whole process, so instances that share a root (services of one
// standalone process) also take turns.
const tails = new Map<string, Promise<void>>();

/** Runs `fn` once every earlier `withLock` of the same `key` in this process has finished. */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  tails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
