import { pause, raceAbort } from './waiting';

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('pause', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves once its time has passed', async () => {
    const waiting = pause(1000, new AbortController().signal);
    jest.advanceTimersByTime(999);
    expect(await settled(waiting)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settled(waiting)).toBe(true);
  });

  it('resolves as soon as its signal aborts, leaving no timer to keep the process alive', async () => {
    const controller = new AbortController();
    const waiting = pause(3_600_000, controller.signal);
    expect(jest.getTimerCount()).toBe(1);
    controller.abort();
    expect(await settled(waiting)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves at once, setting no timer, when its signal has already aborted', async () => {
    const waiting = pause(3_600_000, AbortSignal.abort());
    expect(jest.getTimerCount()).toBe(0);
    expect(await settled(waiting)).toBe(true);
  });

  it('waits its time without a signal', async () => {
    const waiting = pause(10);
    expect(await settled(waiting)).toBe(false);
    jest.advanceTimersByTime(10);
    expect(await settled(waiting)).toBe(true);
  });
});

describe('raceAbort', () => {
  it('resolves when the awaited change comes', async () => {
    let change!: () => void;
    const waiting = raceAbort(new Promise((resolve) => (change = resolve)), new AbortController().signal);
    expect(await settled(waiting)).toBe(false);
    change();
    expect(await settled(waiting)).toBe(true);
  });

  it('resolves when the signal aborts before the change comes', async () => {
    const controller = new AbortController();
    const waiting = raceAbort(new Promise(() => undefined), controller.signal);
    expect(await settled(waiting)).toBe(false);
    controller.abort();
    expect(await settled(waiting)).toBe(true);
  });

  it('resolves at once when the signal has already aborted', async () => {
    expect(await settled(raceAbort(new Promise(() => undefined), AbortSignal.abort()))).toBe(true);
  });

  it('rejects with the error of the awaited promise', async () => {
    await expect(raceAbort(Promise.reject(new Error('gone')), new AbortController().signal)).rejects.toThrow('gone');
  });
});
