import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFIG, JWKS_PATH, OpsServer, type TrellisConfig } from '@trellis/platform';
import { importPKCS8, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SigningKeyKms } from './signing-key-kms';
import { SigningKeyEntity } from './token.entity';
import { TokenRepository } from './token.repository';

/** How long a process keeps using the signing key it last read, before checking for a rotation. */
const ACTIVE_KEY_CACHE_MS = 10_000;
/** Slack added to the token lifetime before a retired key leaves the key set. */
const RETIRED_KEY_GRACE_MS = 60_000;

/** What a token says, beyond the registered claims governance sets itself. */
export interface TokenClaims {
  sub: string;
  kind: 'user' | 'service_account';
  org: string;
  org_admin: boolean;
  bindings: Array<{ project: string; role: string }>;
  /** Set when the key behind the token is limited to some projects. */
  scoped: boolean;
  /** The API key the token was issued for: revoking the key refuses the token. */
  key_id: string;
  /** The principal's access version when its bindings were read: a reduction of its roles refuses older tokens. */
  access_version: number;
}

type PrivateKey = Awaited<ReturnType<typeof importPKCS8>>;

/**
 * Governance's token signing keys (Ed25519). The newest unretired key signs; rotating retires it,
 * and a retired key stays in the published key set until every token it signed has expired.
 * The set is served on the ops port at `/.well-known/jwks.json` for services to verify locally.
 * Private keys are stored wrapped by governance's signing-key KMS instance; keys a governance
 * before that stored in the clear are wrapped at start.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit {
  private active?: { kid: string; key: PrivateKey; readAt: number };

  constructor(
    private readonly repository: TokenRepository,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    private readonly ops: OpsServer,
    private readonly kms: SigningKeyKms,
  ) {}

  async onModuleInit(): Promise<void> {
    const kms = await this.kms.keyManager();
    await this.repository.transaction(async (tx) => {
      if (kms) {
        for (const row of await this.repository.signingKeysInTheClear(tx)) {
          await this.repository.setWrappedSigningKey(tx, row.kid, await this.kms.wrap(kms, row.kid, row.privatePem as string));
        }
      }
      if (!(await this.repository.hasActiveSigningKey(tx))) await this.repository.insertSigningKey(tx, await this.newKey());
    });
    this.ops.addRoute(JWKS_PATH, async () => ({ status: 200, type: 'application/jwk-set+json', body: JSON.stringify(await this.keySet()) }));
  }

  /** Every public key a valid token may be signed with. */
  async keySet(): Promise<JSONWebKeySet> {
    const oldestValid = Date.now() - this.config.auth.tokenTtlSeconds * 1000 - RETIRED_KEY_GRACE_MS;
    const keys = await this.repository.signingKeysRetiredAfter(oldestValid);
    return { keys: keys.map((key) => JSON.parse(key.publicJwk) as JWK) };
  }

  /** Retires the signing key and starts signing with a new one; returns the new key's id. */
  async rotate(): Promise<string> {
    const next = await this.newKey();
    await this.repository.transaction(async (tx) => {
      await this.repository.retireSigningKeys(tx, next.createdAt);
      await this.repository.insertSigningKey(tx, next);
    });
    this.active = undefined;
    return next.kid;
  }

  /** Signs a token for `claims` that expires after the configured lifetime. */
  async sign(claims: TokenClaims): Promise<{ token: string; expiresAt: number }> {
    const { kid, key } = await this.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.config.auth.tokenTtlSeconds;
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setIssuer(this.config.auth.issuer)
      .setAudience(this.config.auth.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key);
    return { token, expiresAt: exp * 1000 };
  }

  private async signingKey(): Promise<{ kid: string; key: PrivateKey }> {
    if (this.active && Date.now() - this.active.readAt < ACTIVE_KEY_CACHE_MS) return this.active;
    const row = await this.repository.activeSigningKey();
    if (!row) throw new Error('no active signing key: governance was not initialised');
    if (this.active?.kid !== row.kid) this.active = { kid: row.kid, key: await importPKCS8(await this.privatePemOf(row), 'EdDSA'), readAt: Date.now() };
    this.active.readAt = Date.now();
    return this.active;
  }

  /** The private key of `row` as PEM: unwrapped, or as stored when it is in the clear. */
  private async privatePemOf(row: SigningKeyEntity): Promise<string> {
    if (row.wrappedPrivateKey) return this.kms.unwrap(row.kid, row.wrappedPrivateKey);
    if (row.privatePem) return row.privatePem;
    throw new Error(`signing key ${row.kid} has no private key`);
  }

  /** A new key pair, its private key wrapped when a KMS instance is configured. */
  private async newKey(): Promise<SigningKeyEntity> {
    const kid = randomUUID();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const kms = await this.kms.keyManager();
    return Object.assign(new SigningKeyEntity(), {
      kid,
      publicJwk: JSON.stringify(jwk),
      privatePem: kms ? null : pem,
      wrappedPrivateKey: kms ? await this.kms.wrap(kms, kid, pem) : null,
      createdAt: Date.now(),
      retiredAt: null,
    });
  }
}
