import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFIG, revocationLifetimeMs, TokenVerifier, type TrellisConfig } from '@trellis/platform';
import { IdentityRepository } from '../identity/identity.repository';
import { TokenRepository } from './token.repository';

/**
 * Adds the revocations still in force to this process's deny list when governance starts. Other
 * processes replay recent ones from JetStream; in standalone, where delivery is in process, nothing
 * else would remember across a restart a key revoked just before it.
 */
@Injectable()
export class RevocationsInForce implements OnModuleInit {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly identity: IdentityRepository,
    private readonly verifier: TokenVerifier,
    @Inject(CONFIG) private readonly config: TrellisConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const lifetime = revocationLifetimeMs(this.config.auth.tokenTtlSeconds);
    const now = Date.now();
    const keys = await this.tokens.apiKeysRevokedAfter(now - lifetime);
    for (const key of keys) this.verifier.revocations.add({ apiKeyId: key.id, principalId: key.principalId, expiresAt: (key.revokedAt ?? now) + lifetime });
    // When a version was raised is not kept; a token older than its principal's version is stale whenever it was issued.
    const principals = await this.identity.principalsWithRaisedAccess();
    for (const principal of principals) this.verifier.revocations.add({ principalId: principal.id, accessVersion: principal.accessVersion, expiresAt: now + lifetime });
  }
}
