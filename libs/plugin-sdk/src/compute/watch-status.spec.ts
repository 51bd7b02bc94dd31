import type { JobState, JobStatus } from '../contracts';
import { JobNotFoundError } from '../errors';
import { watchByPolling, watchStatus } from './watch-status';

const status = (state: JobState, message?: string): JobStatus => ({ jobId: 'job-1', state, ...(message ? { message } : {}) });

/** A status source that gives `script` in order, one status a read, and counts its reads. */
function source(...script: (JobStatus | Error)[]) {
  const reads = { count: 0 };
  const read = async (): Promise<JobStatus> => {
    const next = script[Math.min(reads.count++, script.length - 1)];
    if (next instanceof Error) throw next;
    return next;
  };
  return { read, reads };
}

async function states(watch: AsyncIterable<JobStatus>): Promise<JobState[]> {
  const seen: JobState[] = [];
  for await (const { state } of watch) seen.push(state);
  return seen;
}

/** Lets pending callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve();
}

/** Lets pending callbacks run until `done()` holds; fails the spec when it never does. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await Promise.resolve();
  expect(done()).toBe(true);
}

describe('watchStatus', () => {
  it('gives each change of state once, starting with the current one, and ends after a final state', async () => {
    const { read, reads } = source(status('pending'), status('pending'), status('running'), status('running', 'step 2'), status('succeeded'));
    let waits = 0;
    const seen = await states(watchStatus(read, { nextChange: async () => void waits++ }));
    expect(seen).toEqual(['pending', 'running', 'succeeded']);
    expect(reads.count).toBe(5);
    expect(waits).toBe(4);
  });

  it('gives a job that is already final once, without waiting', async () => {
    const { read } = source(status('failed'));
    const nextChange = jest.fn(async () => undefined);
    expect(await states(watchStatus(read, { nextChange }))).toEqual(['failed']);
    expect(nextChange).not.toHaveBeenCalled();
  });

  it('ends without an error when its signal aborts during a wait for a change that never comes', async () => {
    const controller = new AbortController();
    const { read, reads } = source(status('running'));
    let waiting = false;
    const watch = watchStatus(read, {
      nextChange: () => {
        waiting = true;
        return new Promise(() => undefined);
      },
      signal: controller.signal,
    });
    expect((await watch.next()).value).toEqual(status('running'));
    const ended = watch.next();
    await until(() => waiting);
    controller.abort();
    expect(await ended).toEqual({ done: true, value: undefined });
    expect(reads.count).toBe(1);
  });

  it('ends when its signal aborts while the caller holds a status, without waiting for a change', async () => {
    const controller = new AbortController();
    const nextChange = jest.fn(() => new Promise<void>(() => undefined));
    const seen: JobState[] = [];
    for await (const { state } of watchStatus(source(status('running')).read, { nextChange, signal: controller.signal })) {
      seen.push(state);
      controller.abort();
    }
    expect(seen).toEqual(['running']);
    expect(nextChange).not.toHaveBeenCalled();
  });

  it('starts with the current state even when its signal has already aborted, then ends', async () => {
    const nextChange = jest.fn(async () => undefined);
    expect(await states(watchStatus(source(status('pending')).read, { nextChange, signal: AbortSignal.abort() }))).toEqual(['pending']);
    expect(nextChange).not.toHaveBeenCalled();
  });

  it('ends with the error of a read, after the states given before it', async () => {
    const { read } = source(status('pending'), new JobNotFoundError('job-1'));
    const seen: JobState[] = [];
    const watching = (async () => {
      for await (const { state } of watchStatus(read, { nextChange: async () => undefined })) seen.push(state);
    })();
    await expect(watching).rejects.toBeInstanceOf(JobNotFoundError);
    expect(seen).toEqual(['pending']);
  });

  it('ends with the error of a wait', async () => {
    const { read } = source(status('running'));
    await expect(states(watchStatus(read, { nextChange: () => Promise.reject(new Error('lost the backend')) }))).rejects.toThrow('lost the backend');
  });
});

describe('watchByPolling', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reads again intervalMs after each read has ended, until a final state', async () => {
    let answer!: (status: JobStatus) => void;
    let reads = 0;
    const read = () => {
      reads++;
      return new Promise<JobStatus>((resolve) => (answer = resolve));
    };
    const seen: JobState[] = [];
    const watching = (async () => {
      for await (const { state } of watchByPolling(read, { intervalMs: 1000 })) seen.push(state);
    })();
    await until(() => reads === 1);
    expect(jest.getTimerCount()).toBe(0);
    answer(status('running'));
    await until(() => jest.getTimerCount() === 1);
    expect(seen).toEqual(['running']);
    jest.advanceTimersByTime(999);
    await flush();
    expect(reads).toBe(1);
    jest.advanceTimersByTime(1);
    await until(() => reads === 2);
    // No timer while a read is under way: a slow backend is never asked faster than it answers.
    expect(jest.getTimerCount()).toBe(0);
    answer(status('succeeded'));
    await watching;
    expect(seen).toEqual(['running', 'succeeded']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ends at once when its signal aborts during the interval, leaving no timer', async () => {
    const controller = new AbortController();
    const { read, reads } = source(status('pending'));
    const watch = watchByPolling(read, { intervalMs: 3_600_000, signal: controller.signal });
    expect((await watch.next()).value).toEqual(status('pending'));
    const ended = watch.next();
    await until(() => jest.getTimerCount() === 1);
    controller.abort();
    expect(await ended).toEqual({ done: true, value: undefined });
    expect(jest.getTimerCount()).toBe(0);
    expect(reads.count).toBe(1);
  });
});
