import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { UnauthenticatedError, UnavailableError } from '../errors';
import { API_KEY_PATTERN, HOW_TO_GET_A_TOKEN } from './api-key-format';
import { PROJECT_ROLES, type Principal, type RoleBinding } from './principal';
import { remoteKeySet } from './remote-key-set';
import { revocableClaims, RevocationList } from './revocation-list';
import { TokenCache } from './token-cache';

/** How soon an unknown key id may make the verifier fetch the key set again. */
const REFETCH_COOLDOWN_MS = 1000;

/** Where token signing keys come from. */
export type KeySetSource =
  /** Governance's published key set, fetched over HTTP and cached (rotations are picked up; see remoteKeySet). */
  | { kind: 'remote'; url: string }
  /** A key set given inline (tests, or an air-gapped deployment that ships keys as files). */
  | { kind: 'local'; keys: JSONWebKeySet };

/** How tokens are checked. */
export interface TokenVerifierOptions {
  keys: KeySetSource;
  issuer: string;
  audience: string;
  /** Accepted clock skew, in seconds. */
  clockToleranceSeconds?: number;
  /** How many verified tokens to remember; a token is verified once, then looked up until it expires. */
  cacheSize?: number;
  /** The process's deny list, consulted on every call (default: an empty list of its own). */
  revocations?: RevocationList;
}

/** The claims Trellis tokens carry beyond the registered ones. */
interface TrellisClaims extends JWTPayload {
  kind?: unknown;
  org?: unknown;
  org_admin?: unknown;
  bindings?: unknown;
  scoped?: unknown;
  service?: unknown;
}

/**
 * Verifies `Bearer` tokens locally: EdDSA signatures only (so `alg: none` and HMAC tricks fail),
 * issuer, audience and expiry. Verified tokens are cached until they expire, so the signature is
 * checked once per token, not once per call; revocations are checked on every call.
 */
export class TokenVerifier {
  private readonly keySet;
  private readonly cache: TokenCache<Principal>;
  /** The revocations this verifier refuses tokens by. */
  readonly revocations: RevocationList;

  constructor(private readonly options: TokenVerifierOptions) {
    this.keySet =
      options.keys.kind === 'remote'
        ? remoteKeySet(options.keys.url, { cooldownMs: REFETCH_COOLDOWN_MS })
        : createLocalJWKSet(options.keys.keys);
    this.cache = new TokenCache(options.cacheSize ?? 10_000);
    this.revocations = options.revocations ?? new RevocationList();
  }

  /** The principal of a token this verifier has already verified, that has not expired and that no revocation names. */
  verified(token: string): Principal | undefined {
    const cached = this.unexpired(token);
    return cached && !this.revocations.reasonToRefuse(cached) ? cached : undefined;
  }

  /** Returns the principal of a valid token, or throws UnauthenticatedError saying what is wrong. */
  async verify(token: string): Promise<Principal> {
    let principal = this.unexpired(token);
    if (!principal) {
      principal = toPrincipal(await this.verifySignature(token));
      this.cache.set(token, principal);
    }
    const revoked = this.revocations.reasonToRefuse(principal);
    if (revoked) throw new UnauthenticatedError(`token revoked: ${revoked}`, { reason: 'TOKEN_REVOKED' });
    return principal;
  }

  private unexpired(token: string): Principal | undefined {
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt <= Date.now()) {
      this.cache.delete(token);
      return undefined;
    }
    return cached;
  }

  private async verifySignature(token: string): Promise<TrellisClaims> {
    if (API_KEY_PATTERN.test(token)) throw new UnauthenticatedError(`token rejected: this is an API key, not a token; ${HOW_TO_GET_A_TOKEN}`, { reason: 'API_KEY_NOT_A_TOKEN' });
    try {
      return await this.checkJwt(token);
    } catch (error) {
      // The keys could not be fetched: nothing is known about the token, and a retry may pass.
      if (error instanceof UnavailableError) throw error;
      // A key rotated in the last second is unknown until the set may be fetched again; wait once,
      // a little past the cooldown, as a timer may fire a millisecond before Date.now() says it is due.
      if (error instanceof errors.JWKSNoMatchingKey && this.options.keys.kind === 'remote') {
        await new Promise((resolve) => setTimeout(resolve, REFETCH_COOLDOWN_MS + 50));
        return this.checkJwt(token).catch((retried: unknown) => {
          throw retried instanceof UnavailableError ? retried : tokenRefusal(retried);
        });
      }
      throw tokenRefusal(error);
    }
  }

  private async checkJwt(token: string): Promise<TrellisClaims> {
    const { payload } = await jwtVerify<TrellisClaims>(token, this.keySet, {
      algorithms: ['EdDSA', 'Ed25519'],
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds ?? 5,
      requiredClaims: ['sub', 'exp'],
    });
    return payload;
  }
}

/** UNAUTHENTICATED saying why the token failed its check: TOKEN_EXPIRED, or TOKEN_INVALID for anything else. */
function tokenRefusal(error: unknown): UnauthenticatedError {
  return new UnauthenticatedError(reasonFor(error), { reason: error instanceof errors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID' });
}

function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired; exchange your API key for a new one';
  if (error instanceof errors.JWTClaimValidationFailed) return `token rejected: ${error.message}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token rejected: only EdDSA-signed tokens are accepted';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return 'token rejected: signature does not match any current signing key';
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) {
    return `token rejected: ${error.message}`;
  }
  return 'token rejected: not a valid JWT';
}

function toPrincipal(claims: TrellisClaims): Principal {
  const kind = claims.kind === 'service_account' ? 'service_account' : 'user';
  if (typeof claims.org !== 'string') throw new UnauthenticatedError('token rejected: no org claim', { reason: 'TOKEN_INVALID' });
  return {
    ...revocableClaims(claims),
    kind,
    orgId: claims.org,
    orgAdmin: claims.org_admin === true,
    bindings: parseBindings(claims.bindings),
    expiresAt: (claims.exp as number) * 1000,
    scoped: claims.scoped === true,
    ...(kind === 'service_account' && typeof claims.service === 'string' ? { platformService: claims.service } : {}),
  };
}

function parseBindings(value: unknown): RoleBinding[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new UnauthenticatedError('token rejected: bindings claim is not a list', { reason: 'TOKEN_INVALID' });
  return value.map((entry) => {
    const { project, role } = (entry ?? {}) as { project?: unknown; role?: unknown };
    if (typeof project !== 'string' || !PROJECT_ROLES.includes(role as never)) {
      throw new UnauthenticatedError('token rejected: malformed role binding', { reason: 'TOKEN_INVALID' });
    }
    return { projectId: project, role: role as RoleBinding['role'] };
  });
}
