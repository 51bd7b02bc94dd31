import { RevocationList } from '@trellis/platform';
import { TokenCache, type ExchangedToken } from './token-cache';

describe('TokenCache', () => {
  const key = (n: number) => `trellis_${String(n).padStart(16, '0')}_${'A'.repeat(43)}`;
  let now: number;
  let exchanges: string[];
  let answer: (apiKey: string) => Promise<ExchangedToken>;
  let revocations: RevocationList;
  const cache = (maxEntries?: number) =>
    new TokenCache(
      (apiKey) => {
        exchanges.push(apiKey);
        return answer(apiKey);
      },
      { maxEntries, now: () => now, revocations },
    );
  const claims = { id: 'user-1', apiKeyId: 'key-1', accessVersion: 0 };

  beforeEach(() => {
    now = 1_000_000;
    exchanges = [];
    revocations = new RevocationList(() => now);
    answer = async (apiKey) => ({ token: `token-for-${apiKey.slice(8, 24)}-at-${now}`, expiresAt: now + 300_000, claims });
  });

  it('shares one exchange between concurrent requests with the same key', async () => {
    const tokens = cache();
    const results = await Promise.all([tokens.tokenFor(key(1), 'r1'), tokens.tokenFor(key(1), 'r2'), tokens.tokenFor(key(2), 'r3')]);
    expect(exchanges).toEqual([key(1), key(2)]);
    expect(results[0]).toBe(results[1]);
  });

  it('uses a token until 30 s before it expires, then exchanges again', async () => {
    const tokens = cache();
    const first = await tokens.tokenFor(key(1), 'r1');
    now += 269_000;
    expect(await tokens.tokenFor(key(1), 'r2')).toBe(first);
    now += 1_000;
    expect(await tokens.tokenFor(key(1), 'r3')).not.toBe(first);
    expect(exchanges).toHaveLength(2);
  });

  it('refreshes a short-lived token a quarter of its lifetime early', async () => {
    answer = async () => ({ token: `t-${now}`, expiresAt: now + 40_000, claims });
    const tokens = cache();
    await tokens.tokenFor(key(1), 'r1');
    now += 29_999;
    await tokens.tokenFor(key(1), 'r2');
    now += 1;
    await tokens.tokenFor(key(1), 'r3');
    expect(exchanges).toHaveLength(2);
  });

  it('does not cache a failed exchange', async () => {
    const tokens = cache();
    answer = () => Promise.reject(new Error('API key rejected'));
    await expect(tokens.tokenFor(key(1), 'r1')).rejects.toThrow('API key rejected');
    answer = async () => ({ token: 'good', expiresAt: now + 300_000, claims });
    expect(await tokens.tokenFor(key(1), 'r2')).toBe('good');
    expect(tokens.size).toBe(1);
  });

  it('drops the least recently used key past its bound', async () => {
    const tokens = cache(2);
    await tokens.tokenFor(key(1), 'r');
    await tokens.tokenFor(key(2), 'r');
    await tokens.tokenFor(key(1), 'r');
    await tokens.tokenFor(key(3), 'r');
    expect(tokens.size).toBe(2);
    await tokens.tokenFor(key(1), 'r');
    await tokens.tokenFor(key(2), 'r');
    expect(exchanges).toEqual([key(1), key(2), key(3), key(2)]);
  });

  it('exchanges the key again instead of reusing a token whose API key was revoked', async () => {
    const tokens = cache();
    await tokens.tokenFor(key(1), 'r1');
    revocations.add({ apiKeyId: 'key-2', principalId: 'user-1', expiresAt: now + 60_000 });
    await tokens.tokenFor(key(1), 'r2');
    expect(exchanges).toHaveLength(1);

    revocations.add({ apiKeyId: 'key-1', principalId: 'user-1', expiresAt: now + 60_000 });
    answer = () => Promise.reject(new Error('API key rejected: unknown, revoked or expired'));
    await expect(tokens.tokenFor(key(1), 'r3')).rejects.toThrow('API key rejected');
  });

  it('exchanges the key again for a token with current roles once the principal\'s roles were reduced', async () => {
    const tokens = cache();
    const before = await tokens.tokenFor(key(1), 'r1');
    revocations.add({ principalId: 'user-1', accessVersion: 1, expiresAt: now + 60_000 });
    now += 1;
    answer = async () => ({ token: `current-${now}`, expiresAt: now + 300_000, claims: { ...claims, accessVersion: 1 } });

    const after = await tokens.tokenFor(key(1), 'r2');
    expect(after).not.toBe(before);
    expect(await tokens.tokenFor(key(1), 'r3')).toBe(after);
    expect(exchanges).toHaveLength(2);
  });

  describe('a key whose holder gained access (renew)', () => {
    it('is exchanged again at its next request only, and the new token is reused', async () => {
      const tokens = cache();
      const before = await tokens.tokenFor(key(1), 'r1');
      await tokens.tokenFor(key(2), 'r2');
      now += 1;
      tokens.renew(key(1));

      const after = await tokens.tokenFor(key(1), 'r3');
      expect(after).not.toBe(before);
      expect(await tokens.tokenFor(key(1), 'r4')).toBe(after);
      await tokens.tokenFor(key(2), 'r5');
      expect(exchanges).toEqual([key(1), key(2), key(1)]);
    });

    it('keeps using the token it holds when that exchange fails, and tries again at the next request', async () => {
      const tokens = cache();
      const before = await tokens.tokenFor(key(1), 'r1');
      tokens.renew(key(1));
      answer = () => Promise.reject(new Error('too many exchanges of this API key'));
      expect(await tokens.tokenFor(key(1), 'r2')).toBe(before);

      answer = async () => ({ token: 'with-the-new-project', expiresAt: now + 300_000, claims });
      expect(await tokens.tokenFor(key(1), 'r3')).toBe('with-the-new-project');
      expect(exchanges).toHaveLength(3);
    });

    it('does not keep the token of an exchange that was under way, which may predate the access', async () => {
      const tokens = cache();
      let finishOld!: (token: ExchangedToken) => void;
      answer = () => new Promise((resolve) => (finishOld = resolve));
      const old = tokens.tokenFor(key(1), 'r1');
      tokens.renew(key(1));
      answer = async () => ({ token: 'new', expiresAt: now + 300_000, claims });
      expect(await tokens.tokenFor(key(1), 'r2')).toBe('new');
      finishOld({ token: 'old', expiresAt: now + 300_000, claims });
      expect(await old).toBe('old');

      expect(await tokens.tokenFor(key(1), 'r3')).toBe('new');
      expect(exchanges).toHaveLength(2);
    });
  });
});
