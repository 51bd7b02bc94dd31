import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFIG, LOGGER, type Logger, type TrellisConfig } from '@trellis/platform';
import { DataSource } from 'typeorm';
import { IdentityService } from '../identity/identity.service';
import { TokenService } from './token.service';

/** Where the one-time admin key goes; stdout unless a test captures it. */
export const BOOTSTRAP_OUTPUT = Symbol('trellis:bootstrap-output');

/**
 * First start: creates the `default` org and project and an admin who owns it, with an API key,
 * in one transaction. The key is printed once (or taken from TRELLIS_ADMIN_KEY and not printed);
 * it never reaches the logs, and later starts print nothing.
 */
@Injectable()
export class Bootstrap implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly identity: IdentityService,
    private readonly tokens: TokenService,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(BOOTSTRAP_OUTPUT) private readonly output: (text: string) => void,
  ) {}

  async onModuleInit(): Promise<void> {
    const given = this.config.auth.adminKey;
    const created = await this.dataSource.transaction(async (manager) => {
      const admin = await this.identity.bootstrap(manager);
      if (!admin) return undefined;
      const { secret } = await this.tokens.storeKey(manager, admin.id, { name: 'bootstrap admin', projectIds: [], expiresAt: null }, given);
      return { admin, secret };
    });
    if (!created) return;
    this.logger.info({ principal: created.admin.id }, 'created the default org, project and admin');
    if (given) {
      this.output('Trellis: created the admin user with the API key from TRELLIS_ADMIN_KEY.\n');
    } else {
      this.output(
        `Trellis: created the admin user. Its API key is shown this once; store it now:\n\n    ${created.secret}\n\n`,
      );
    }
  }
}
