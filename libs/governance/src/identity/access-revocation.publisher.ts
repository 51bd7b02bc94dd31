import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_REVOKED_SUBJECT, CONFIG, Outbox, revocationLifetimeMs, type Caller, type TrellisConfig } from '@trellis/platform';
import { AccessRevokedEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { governanceEvents } from '../governance.events';
import { IdentityRepository } from './identity.repository';

/**
 * Publishes access taken away (trellis.governance.v1.access.revoked) in the transaction of the
 * change, so every service and the gateway refuse the tokens it names as soon as the outbox
 * delivers it, instead of when those tokens expire.
 */
@Injectable()
export class AccessRevocationPublisher {
  constructor(
    private readonly outbox: Outbox,
    private readonly repository: IdentityRepository,
    @Inject(CONFIG) private readonly config: TrellisConfig,
  ) {}

  /** Every token issued for the API key is refused from now on. */
  async apiKeyRevoked(manager: EntityManager, caller: Caller, apiKey: { id: string; principalId: string }): Promise<void> {
    await this.publish(manager, caller, { apiKeyId: apiKey.id, principalId: apiKey.principalId });
  }

  /**
   * A role of the principal was lowered or removed: raises its access version, so its tokens
   * issued before (which carry the old roles) are refused and an exchange issues current ones.
   */
  async rolesReduced(manager: EntityManager, caller: Caller, principalId: string, projectId: string): Promise<void> {
    const accessVersion = await this.repository.raiseAccessVersion(manager, principalId);
    await this.publish(manager, caller, { principalId, accessVersion }, projectId);
  }

  private async publish(
    manager: EntityManager,
    caller: Caller,
    revoked: { apiKeyId?: string; principalId: string; accessVersion?: number },
    projectId?: string,
  ): Promise<void> {
    const expireTime = timestampFromMs(Date.now() + revocationLifetimeMs(this.config.auth.tokenTtlSeconds));
    await this.outbox.publish(manager, governanceEvents, {
      subject: ACCESS_REVOKED_SUBJECT,
      message: create(AccessRevokedEventSchema, { ...revoked, expireTime }),
      projectId,
      actor: caller.principal?.id,
      requestId: caller.requestId,
    });
  }
}
