import { decodeJwt, type JWTPayload } from 'jose';
import { UnauthenticatedError } from '../errors';
import type { Principal } from './principal';

/** Slack on top of the token lifetime: clock skew between processes, and calls in flight. */
const REVOCATION_SLACK_MS = 60_000;

/**
 * How long a revocation must be remembered so that every token it names has expired: the token
 * lifetime (`auth.tokenTtlSeconds`) plus a minute of slack.
 */
export function revocationLifetimeMs(tokenTtlSeconds: number): number {
  return tokenTtlSeconds * 1000 + REVOCATION_SLACK_MS;
}

/** One revocation, as governance publishes it (trellis.governance.v1.AccessRevokedEvent). */
export interface Revocation {
  /** Every token issued for this API key is refused. */
  apiKeyId?: string;
  /** The user or service account whose access was taken away. */
  principalId: string;
  /** When above 0, the principal's tokens that carry a lower access version are refused. */
  accessVersion?: number;
  /** When the last token it names expires, in milliseconds since the epoch; it is forgotten then. */
  expiresAt: number;
}

/** What a token says that a revocation can name. */
export type RevocableToken = Pick<Principal, 'id' | 'apiKeyId' | 'accessVersion'>;

/**
 * A process's deny list: the revocations governance published that may still name an unexpired
 * token. The token verifier consults it on every call (two map lookups) and the gateway before it
 * reuses a token it cached, so a revocation takes effect in a process as soon as it is added.
 */
export class RevocationList {
  /** API key id -> until when its tokens are refused. */
  private readonly keys = new Map<string, number>();
  /** Principal id -> the lowest access version still accepted, and until when older ones are refused. */
  private readonly principals = new Map<string, { lowest: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(revocation: Revocation): void {
    this.forgetExpired();
    const { apiKeyId, principalId, accessVersion = 0, expiresAt } = revocation;
    if (expiresAt <= this.now()) return;
    if (apiKeyId) this.keys.set(apiKeyId, Math.max(expiresAt, this.keys.get(apiKeyId) ?? 0));
    if (accessVersion > 0) {
      const known = this.principals.get(principalId) ?? { lowest: 0, until: 0 };
      this.principals.set(principalId, { lowest: Math.max(known.lowest, accessVersion), until: Math.max(known.until, expiresAt) });
    }
  }

  /** Why `token` is refused, or undefined when no revocation names it. */
  reasonToRefuse(token: RevocableToken): string | undefined {
    const now = this.now();
    if (token.apiKeyId && (this.keys.get(token.apiKeyId) ?? 0) > now) return `its API key ${token.apiKeyId} was revoked`;
    const access = this.principals.get(token.id);
    if (access && access.until > now && (token.accessVersion ?? 0) < access.lowest) {
      return `the roles of ${token.id} were reduced after it was issued; exchange your API key again for a token with the current roles`;
    }
    return undefined;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [apiKeyId, until] of this.keys) if (until <= now) this.keys.delete(apiKeyId);
    for (const [principalId, { until }] of this.principals) if (until <= now) this.principals.delete(principalId);
  }
}

/**
 * The claims of a token a revocation can name: `sub`, `key_id` (the API key it was issued for)
 * and `access_version` (of the principal's roles when it was issued; 0 when absent).
 */
export function revocableClaims(claims: JWTPayload): RevocableToken {
  const { sub, key_id: apiKeyId, access_version: accessVersion = 0 } = claims as JWTPayload & { key_id?: unknown; access_version?: unknown };
  if (typeof sub !== 'string') throw new UnauthenticatedError('token rejected: no sub claim', { reason: 'TOKEN_INVALID' });
  if (apiKeyId !== undefined && typeof apiKeyId !== 'string') throw new UnauthenticatedError('token rejected: key_id claim is not a string', { reason: 'TOKEN_INVALID' });
  if (!Number.isSafeInteger(accessVersion) || (accessVersion as number) < 0) {
    throw new UnauthenticatedError('token rejected: access_version claim is not a whole number', { reason: 'TOKEN_INVALID' });
  }
  return { id: sub, apiKeyId, accessVersion: accessVersion as number };
}

/**
 * The revocable claims of a token read without checking its signature: only for a token its
 * holder got from governance itself (the gateway's cache), never to trust what a caller sent.
 */
export function unverifiedRevocableClaims(token: string): RevocableToken {
  return revocableClaims(decodeJwt(token));
}
