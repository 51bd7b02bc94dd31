import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { UnavailableError } from '../errors';

export interface RemoteKeySetOptions {
  /** How old the set may grow before a verification fetches it again (default 10 minutes). */
  maxAgeMs?: number;
  /** How soon after a fetch an unknown key id may fetch again (default 1 s), so bad tokens cannot flood the publisher. */
  cooldownMs?: number;
  /** How long one fetch may take (default 5 s). */
  timeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * Governance's published key set (`/.well-known/jwks.json`) for jose's verifier: fetched at the
 * first verification, again when it is older than `maxAgeMs` or a token names a key id it lacks
 * (rotation). A fetch that fails keeps the set fetched last, so tokens signed by keys already
 * known verify while governance restarts, is upgraded or is out of reach; only a key the process
 * has never seen, or a first fetch, fails then, as UNAVAILABLE naming the URL (retry), never as a
 * bad token.
 */
export function remoteKeySet(url: string, options: RemoteKeySetOptions = {}): JWTVerifyGetKey {
  const { maxAgeMs = 10 * 60_000, cooldownMs = 1000, timeoutMs = 5000, now = Date.now } = options;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = 0;
  let triedAt = Number.NEGATIVE_INFINITY;
  let fetching: Promise<void> | undefined;

  const fetchSet = () =>
    (fetching ??= (async () => {
      triedAt = now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) throw new Error(`it answered ${response.status}`);
        keys = createLocalJWKSet((await response.json()) as JSONWebKeySet);
        fetchedAt = now();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new UnavailableError(`the token signing keys could not be fetched from ${url} (${reason}); retry once governance answers there`);
      } finally {
        fetching = undefined;
      }
    })());

  return async (header, token) => {
    if (!keys) await fetchSet();
    // A stale set is fetched again at most once per cooldown while governance does not answer.
    else if (now() - fetchedAt > maxAgeMs && now() - triedAt >= cooldownMs) await fetchSet().catch(() => undefined);
    try {
      return await keys!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - triedAt < cooldownMs) throw error;
      await fetchSet();
      return keys!(header, token);
    }
  };
}
