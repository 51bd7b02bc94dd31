import type { RevocableToken, RevocationList } from '@trellis/platform';
import { createHash } from 'node:crypto';

/** A token governance issued for an API key, when it expires (ms since the epoch), and what revocations can name in it. */
export interface ExchangedToken {
  token: string;
  expiresAt: number;
  claims: RevocableToken;
}

/** Trades an API key for a token; `requestId` names the request that needed it. */
export type ExchangeApiKey = (apiKey: string, requestId: string) => Promise<ExchangedToken>;

/**
 * Tokens by API key, so a client that sends its key on every request costs one exchange per
 * token lifetime. Keys are held only as SHA-256 digests. A token is used until shortly before it
 * expires (a quarter of its lifetime, at most 30 s, early: clocks differ and calls take time);
 * concurrent requests with the same key share one exchange; the least recently used entries go
 * first past `maxEntries`. A token that `revocations` names is dropped, so a revoked key is
 * exchanged again (and refused) and a principal whose roles were reduced gets a current token.
 * A key `renew` names (its holder just gained access: it created a project) is exchanged again at
 * its next request, so the new access works at once; the token held is used should that exchange
 * fail. Failed exchanges are not cached: governance rate-limits them itself.
 */
export class TokenCache {
  private readonly entries = new Map<string, { token: string; refreshAt: number; claims: RevocableToken; renew?: boolean }>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly revocations?: RevocationList;

  constructor(
    private readonly exchange: ExchangeApiKey,
    options: { maxEntries?: number; now?: () => number; revocations?: RevocationList } = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    this.revocations = options.revocations;
  }

  /** How many tokens are cached. */
  get size(): number {
    return this.entries.size;
  }

  tokenFor(apiKey: string, requestId: string): Promise<string> {
    const digest = digestOf(apiKey);
    const cached = this.entries.get(digest);
    let held: string | undefined;
    if (cached) {
      this.entries.delete(digest);
      if (cached.refreshAt > this.now() && !this.revocations?.reasonToRefuse(cached.claims)) {
        this.entries.set(digest, cached);
        if (!cached.renew) return Promise.resolve(cached.token);
        held = cached.token;
      }
    }
    let exchanging = this.pending.get(digest);
    if (!exchanging) {
      const startedAt = this.now();
      const started: Promise<string> = this.exchange(apiKey, requestId)
        .then(({ token, expiresAt, claims }) => {
          // An exchange `renew` superseded may carry the access from before: it is not kept.
          if (this.pending.get(digest) === started) this.store(digest, { token, claims, refreshAt: expiresAt - Math.min(30_000, (expiresAt - startedAt) / 4) });
          return token;
        })
        .finally(() => {
          if (this.pending.get(digest) === started) this.pending.delete(digest);
        });
      this.pending.set(digest, (exchanging = started));
    }
    return held === undefined ? exchanging : exchanging.catch(() => held);
  }

  /**
   * The holder of `apiKey` gained access its token does not carry (the gateway saw it create a
   * project): its next request exchanges the key again, and an exchange already under way is not kept.
   */
  renew(apiKey: string): void {
    const digest = digestOf(apiKey);
    const cached = this.entries.get(digest);
    if (cached) cached.renew = true;
    this.pending.delete(digest);
  }

  private store(digest: string, entry: { token: string; refreshAt: number; claims: RevocableToken }): void {
    if (entry.refreshAt <= this.now()) return;
    this.entries.set(digest, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** How the cache holds a key: its SHA-256, never the key itself. */
function digestOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('base64');
}
