import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { AfterStart, AuditRecorder, LocalServiceCredentials, LOGGER, SERVICE_CONFIG, type Logger } from '@trellis/platform';
import { IdentityRepository } from '../identity/identity.repository';
import { IdentityService } from '../identity/identity.service';
import { TokenRepository } from './token.repository';
import { issueServiceKey, writeKeyFile } from './service-key';
import { storeApiKey } from './token.service';
import type { GovernanceConfig } from '../governance.config';

/**
 * First start: creates the `default` org and project and an admin who owns it, in one
 * transaction (with the key of TRELLIS_GOVERNANCE_ADMIN_KEY, when set). A generated key is issued and shown
 * only once every server of the process listens: a first start that fails before then shows no
 * key, and the next start issues it. The key never reaches the logs.
 *
 * It also provisions the credentials of the process's services that run work as themselves
 * (standalone): as each starts, its service account is made and an API key written to its key
 * file under `<dataDir>/keys/`, unless the file is there.
 */
@Injectable()
export class FirstStartBootstrap implements OnModuleInit {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly identities: IdentityRepository,
    private readonly identity: IdentityService,
    @Inject(SERVICE_CONFIG) private readonly config: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly afterStart: AfterStart,
    private readonly localCredentials: LocalServiceCredentials,
    private readonly audit: AuditRecorder,
  ) {}

  async onModuleInit(): Promise<void> {
    this.localCredentials.provideWith((service, keyFile) => this.provisionKeyFile(service, keyFile));
    const given = this.config.adminKey;
    const created = await this.tokens.transaction(async (tx) => {
      const admin = await this.identity.bootstrap(tx);
      if (admin && given) await storeApiKey(this.tokens, tx, admin.id, { name: 'bootstrap admin', projectIds: [], expiresAt: null }, given);
      return admin;
    });
    if (created) this.logger.info({ principal: created.id }, 'created the default org, project and admin');
    if (created && given) {
      await this.afterStart.add(async () => 'Trellis: created the admin user with the API key from TRELLIS_GOVERNANCE_ADMIN_KEY.\n');
    } else {
      await this.afterStart.add(() => this.issueFirstKey());
    }
  }

  /** Gives `service` its service account and a key in `keyFile`, unless the file exists (deleting it issues a new key at the next start). */
  private async provisionKeyFile(service: string, keyFile: string): Promise<void> {
    if (existsSync(keyFile)) return;
    const repositories = { tokens: this.tokens, identities: this.identities, audit: this.audit };
    const issued = await this.tokens.transaction((tx) => issueServiceKey(repositories, tx, service, 'governance:first-start'));
    await writeKeyFile(keyFile, issued.secret);
    this.logger.info({ service, principal: issued.principalId, apiKeyId: issued.apiKeyId, keyFile }, `provisioned the ${service} service's account and credential`);
  }

  /** The notice of the admin's first key, issued now if the admin has never had one. */
  private async issueFirstKey(): Promise<string | undefined> {
    const issued = await this.tokens.transaction(async (tx) => {
      const admin = await this.identities.firstAdminForUpdate(tx);
      if (!admin || (await this.tokens.countApiKeysOf(tx, admin.id)) > 0) return undefined;
      return storeApiKey(this.tokens, tx, admin.id, { name: 'bootstrap admin', projectIds: [], expiresAt: null });
    });
    if (!issued) return undefined;
    this.logger.info({ principal: issued.apiKey.principalId, apiKeyId: issued.apiKey.id }, "issued the admin's first API key");
    return `Trellis: created the admin user. Its API key is shown this once; store it now:\n\n    ${issued.secret}\n`;
  }
}
