import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { randomUUID } from 'node:crypto';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** What a test token says about its bearer. */
export interface TestTokenClaims {
  sub?: string;
  kind?: 'user' | 'service_account';
  /** The platform service a service account is the identity of (claim `service`). */
  service?: string;
  org?: string;
  orgAdmin?: boolean;
  bindings?: Array<{ project: string; role: 'viewer' | 'editor' | 'admin' | 'owner' }>;
  /** The API key the token says it was issued for (claim `key_id`). */
  apiKeyId?: string;
  /** The version of the principal's roles it says it carries (claim `access_version`). */
  accessVersion?: number;
  /** Lifetime in seconds; negative for an already expired token. */
  ttlSeconds?: number;
  audience?: string;
  issuer?: string;
}

/**
 * A signing key set for tests, standing in for governance's: mints EdDSA tokens shaped as
 * governance issues them, and publishes the matching public JSON Web Key Set.
 */
export class TestKeySet {
  private constructor(
    private readonly privateKey: PrivateKey,
    private readonly kid: string,
    /** The public key set services are configured with. */
    readonly jwks: JSONWebKeySet,
  ) {}

  static async create(): Promise<TestKeySet> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    return new TestKeySet(privateKey, kid, { keys: [jwk] });
  }

  /** A signed token with the given claims (defaults: a user in org `org-1` with no bindings). */
  async mint(claims: TestTokenClaims = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      kind: claims.kind ?? 'user',
      org: claims.org ?? 'org-1',
      org_admin: claims.orgAdmin ?? false,
      bindings: claims.bindings ?? [],
      ...(claims.service === undefined ? {} : { service: claims.service }),
      ...(claims.apiKeyId === undefined ? {} : { key_id: claims.apiKeyId }),
      ...(claims.accessVersion === undefined ? {} : { access_version: claims.accessVersion }),
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(claims.sub ?? 'user-1')
      .setIssuer(claims.issuer ?? 'trellis-governance')
      .setAudience(claims.audience ?? 'trellis')
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.ttlSeconds ?? 300))
      .sign(this.privateKey);
  }
}

/** An unsigned token (`alg: none`) with otherwise valid claims: must always be refused. */
export function unsignedToken(claims: Record<string, unknown> = {}): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: 'user-1', org: 'org-1', iss: 'trellis-governance', aud: 'trellis', iat: now, exp: now + 300, ...claims };
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}
