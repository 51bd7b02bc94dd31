import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AfterStart, CONFIG, LOGGER, type Logger, type TrellisConfig } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { OrgEntity, PrincipalEntity } from '../identity/identity.entity';
import { IdentityService } from '../identity/identity.service';
import { storeApiKey } from './token.service';
import { ApiKeyEntity } from './tokens.entities';

/** The admin user created at first start, in the first org (as IdentityService.bootstrap names it); undefined if gone. */
export async function bootstrapAdmin(manager: EntityManager): Promise<PrincipalEntity | undefined> {
  const [org] = await manager.find(OrgEntity, { order: { createdAt: 'ASC' }, take: 1 });
  if (!org) return undefined;
  // On PostgreSQL the row is locked, so two replicas starting at once do not both issue a first key.
  const lock = manager.connection.options.type === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {};
  return (await manager.findOne(PrincipalEntity, { where: { orgId: org.id, kind: 'user', name: 'admin' }, ...lock })) ?? undefined;
}

/**
 * First start: creates the `default` org and project and an admin who owns it, in one
 * transaction (with the key of TRELLIS_ADMIN_KEY, when set). A generated key is issued and shown
 * only once every server of the process listens: a first start that fails before then shows no
 * key, and the next start issues it. The key never reaches the logs.
 */
@Injectable()
export class Bootstrap implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly identity: IdentityService,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly afterStart: AfterStart,
  ) {}

  async onModuleInit(): Promise<void> {
    const given = this.config.auth.adminKey;
    const created = await this.dataSource.transaction(async (manager) => {
      const admin = await this.identity.bootstrap(manager);
      if (admin && given) await storeApiKey(manager, admin.id, { name: 'bootstrap admin', projectIds: [], expiresAt: null }, given);
      return admin;
    });
    if (created) this.logger.info({ principal: created.id }, 'created the default org, project and admin');
    if (created && given) {
      await this.afterStart.add(async () => 'Trellis: created the admin user with the API key from TRELLIS_ADMIN_KEY.\n');
    } else {
      await this.afterStart.add(() => this.issueFirstKey());
    }
  }

  /** The notice of the admin's first key, issued now if the admin has never had one. */
  private async issueFirstKey(): Promise<string | undefined> {
    const issued = await this.dataSource.transaction(async (manager) => {
      const admin = await bootstrapAdmin(manager);
      if (!admin || (await manager.countBy(ApiKeyEntity, { principalId: admin.id })) > 0) return undefined;
      return storeApiKey(manager, admin.id, { name: 'bootstrap admin', projectIds: [], expiresAt: null });
    });
    if (!issued) return undefined;
    this.logger.info({ principal: issued.apiKey.principalId, apiKeyId: issued.apiKey.id }, "issued the admin's first API key");
    return `Trellis: created the admin user. Its API key is shown this once; store it now:\n\n    ${issued.secret}\n`;
  }
}
