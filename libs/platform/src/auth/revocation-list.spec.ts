import { RevocationList } from './revocation-list';

describe('RevocationList', () => {
  let now: number;
  let list: RevocationList;

  beforeEach(() => {
    now = 1_000_000;
    list = new RevocationList(() => now);
  });

  it("refuses every token of a revoked API key, and no other key's", () => {
    list.add({ apiKeyId: 'k1', principalId: 'u1', expiresAt: now + 60_000 });

    expect(list.reasonToRefuse({ id: 'u1', apiKeyId: 'k1', accessVersion: 5 })).toBe('its API key k1 was revoked');
    expect(list.reasonToRefuse({ id: 'u1', apiKeyId: 'k2', accessVersion: 0 })).toBeUndefined();
    expect(list.reasonToRefuse({ id: 'u1' })).toBeUndefined();
  });

  it("refuses a principal's tokens older than its access version, and keeps the highest version it was told", () => {
    list.add({ principalId: 'u1', accessVersion: 3, expiresAt: now + 60_000 });
    list.add({ principalId: 'u1', accessVersion: 2, expiresAt: now + 90_000 });

    expect(list.reasonToRefuse({ id: 'u1', accessVersion: 2 })).toMatch(/^the roles of u1 were reduced after it was issued; exchange your API key again/);
    expect(list.reasonToRefuse({ id: 'u1' })).toBeDefined();
    expect(list.reasonToRefuse({ id: 'u1', accessVersion: 3 })).toBeUndefined();
    expect(list.reasonToRefuse({ id: 'u2', accessVersion: 0 })).toBeUndefined();
    // The later expiry of the two holds for the higher version: older tokens are older than both.
    now += 80_000;
    expect(list.reasonToRefuse({ id: 'u1', accessVersion: 2 })).toBeDefined();
  });

  it('forgets a revocation once every token it names has expired, and ignores one that arrives expired', () => {
    list.add({ apiKeyId: 'k1', principalId: 'u1', accessVersion: 1, expiresAt: now + 1000 });
    list.add({ apiKeyId: 'k2', principalId: 'u2', accessVersion: 1, expiresAt: now });

    expect(list.reasonToRefuse({ id: 'u2', apiKeyId: 'k2', accessVersion: 0 })).toBeUndefined();
    now += 1000;
    expect(list.reasonToRefuse({ id: 'u1', apiKeyId: 'k1', accessVersion: 0 })).toBeUndefined();
  });
});
