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
 * Failed exchanges are not cached: governance rate-limits them itself.
 */
export class TokenCache {
  private readonly entries = new Map<string, { token: string; refreshAt: number; claims: RevocableToken }>();
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
    const digest = createHash('sha256').update(apiKey).digest('base64');
    const cached = this.entries.get(digest);
    if (cached) {
      this.entries.delete(digest);
      if (cached.refreshAt > this.now() && !this.revocations?.reasonToRefuse(cached.claims)) {
        this.entries.set(digest, cached);
        return Promise.resolve(cached.token);
      }
    }
    let exchanging = this.pending.get(digest);
    if (!exchanging) {
      const startedAt = this.now();
      exchanging = this.exchange(apiKey, requestId)
        .then(({ token, expiresAt, claims }) => {
          this.store(digest, { token, claims, refreshAt: expiresAt - Math.min(30_000, (expiresAt - startedAt) / 4) });
          return token;
        })
        .finally(() => this.pending.delete(digest));
      this.pending.set(digest, exchanging);
    }
    return exchanging;
  }

  private store(digest: string, entry: { token: string; refreshAt: number; claims: RevocableToken }): void {
    if (entry.refreshAt <= this.now()) return;
    this.entries.set(digest, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
