import { Wakeup } from './wakeup';

describe('a worker wake-up', () => {
  it('ends a wait when woken, and keeps a wake-up that came between two waits', async () => {
    const wakeup = new Wakeup();
    const signal = new AbortController().signal;
    const waiting = wakeup.wait(60_000, signal);
    wakeup.wake();
    await waiting;
    wakeup.wake();
    await wakeup.wait(60_000, signal);
  });

  it('ends a wait when the worker is stopped', async () => {
    const wakeup = new Wakeup();
    const stop = new AbortController();
    const waiting = wakeup.wait(60_000, stop.signal);
    stop.abort();
    await waiting;
  });
});
