import { backoffDelay, retryAfterMs } from './backoff';

describe('backoffDelay', () => {
  const backoff = { initialMs: 100, maxMs: 1000, multiplier: 3, jitter: 0 };

  it('grows by the multiplier after each try, up to the maximum', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(backoff, attempt, Math.random))).toEqual([100, 300, 900, 1000]);
  });

  it('takes up to the jitter share off at random, from the random source it is given', () => {
    const jittered = { ...backoff, jitter: 0.5 };
    expect([0, 0.5, 0.999].map((r) => backoffDelay(jittered, 2, () => r))).toEqual([300, 225, 150]);
  });
});

describe('retryAfterMs', () => {
  const now = new Date('2026-12-05T10:00:00.000Z');

  it('reads delay seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Sat, 05 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sat, 05 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });
});
