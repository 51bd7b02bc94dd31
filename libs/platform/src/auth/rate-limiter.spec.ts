import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => (now = 1_000_000));

  it('takes a burst at once, then refuses until the bucket refills', () => {
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, 100, clock);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    now += 500;
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('b')).toBe(true);
  });

  it('says in whole seconds, at least one, when a refused key gets its next token', () => {
    const slow = new RateLimiter({ ratePerSecond: 0.25, burst: 1 }, 100, clock);
    expect(slow.retryAfterSeconds('a')).toBe(1);
    slow.take('a');
    expect(slow.take('a')).toBe(false);
    expect(slow.retryAfterSeconds('a')).toBe(4);
    now += 1_500;
    expect(slow.retryAfterSeconds('a')).toBe(3);
    now += 2_500;
    expect(slow.take('a')).toBe(true);

    const fast = new RateLimiter({ ratePerSecond: 50, burst: 1 }, 100, clock);
    fast.take('a');
    expect(fast.take('a')).toBe(false);
    expect(fast.retryAfterSeconds('a')).toBe(1);
  });
});
