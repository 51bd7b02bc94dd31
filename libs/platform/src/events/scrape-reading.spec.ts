import { ScrapeReading } from './scrape-reading';

/** A read whose answers the spec hands out one at a time. */
function controlledRead() {
  const calls: Array<{ resolve: (value: number) => void; reject: (error: Error) => void }> = [];
  const read = () => new Promise<number>((resolve, reject) => void calls.push({ resolve, reject }));
  return { read, calls };
}

describe('ScrapeReading', () => {
  it('reads once for scrapes that arrive together, and serves the figure to later ones while it is fresh', async () => {
    const { read, calls } = controlledRead();
    const reading = new ScrapeReading(read, { maxAgeMs: 600_000 });

    const together = [reading.latest(), reading.latest(), reading.latest()];
    calls[0].resolve(7);

    expect(await Promise.all(together)).toEqual([7, 7, 7]);
    expect(await reading.latest()).toBe(7);
    expect(calls).toHaveLength(1);
  });

  it('reads again once the figure is older than maxAgeMs', async () => {
    let figure = 0;
    const reading = new ScrapeReading(async () => ++figure, { maxAgeMs: 0 });

    expect(await reading.latest()).toBe(1);
    expect(await reading.latest()).toBe(2);
  });

  it('answers a scrape with the figure before when a read is slower than waitMs, and the new one once it arrives', async () => {
    const { read, calls } = controlledRead();
    const reading = new ScrapeReading(read, { maxAgeMs: 0, waitMs: 20 });
    const first = reading.latest();
    calls[0].resolve(1);
    expect(await first).toBe(1);

    // The second read never answers while these scrapes wait: each gets the first figure, and no read of its own.
    expect(await reading.latest()).toBe(1);
    expect(await reading.latest()).toBe(1);
    expect(calls).toHaveLength(2);

    calls[1].resolve(2);
    await new Promise(setImmediate);
    expect(await reading.latest()).toBe(2);
  });

  it('has no figure after a read failed, so the series go instead of showing a stale value, until a read succeeds', async () => {
    const { read, calls } = controlledRead();
    const reading = new ScrapeReading(read, { maxAgeMs: 0 });
    const first = reading.latest();
    calls[0].resolve(5);
    expect(await first).toBe(5);

    const failed = reading.latest();
    calls[1].reject(new Error('connection terminated'));
    expect(await failed).toBeUndefined();

    const recovered = reading.latest();
    calls[2].resolve(6);
    expect(await recovered).toBe(6);
  });

  it('has no figure for a first scrape whose read is slower than waitMs', async () => {
    const { read, calls } = controlledRead();
    const reading = new ScrapeReading(read, { waitMs: 10 });

    expect(await reading.latest()).toBeUndefined();
    expect(calls).toHaveLength(1);
  });
});
