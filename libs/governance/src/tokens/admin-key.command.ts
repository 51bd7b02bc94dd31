import { ConfigError, loadConfig, readableFailure, type TrellisConfig } from '@trellis/platform';
import { governanceService } from '../governance.definition';
import { withGovernanceDatabase } from './operator-database';
import { type IssuedKey, operatorActor, storeAuditedKey } from './operator-keys';

/**
 * Issues a new API key to the admin user created at first start, writing straight into
 * governance's database as `config` names it (the standalone data directory, or PostgreSQL in
 * distributed mode), for an operator who lost the admin key or never saw it. Whoever can write
 * that database can do this anyway; the change is audited as the operator's (`operator:<user>@<host>`),
 * and earlier keys keep working until revoked. Governance may be running meanwhile.
 */
export async function issueAdminKey(config: TrellisConfig): Promise<IssuedKey> {
  return withGovernanceDatabase(config, (repositories) =>
    repositories.tokens.transaction(async (tx) => {
      const admin = await repositories.identities.firstAdminForUpdate(tx);
      if (!admin) throw new ConfigError('this governance database has no admin user yet: start Trellis once, and it creates one');
      return storeAuditedKey(repositories, tx, admin.id, 'admin key issued by an operator', operatorActor());
    }),
  );
}

/**
 * `npm run admin-key` and `node apps/governance/dist/main.js admin-key`: issues a new admin key
 * from the process's configuration and prints it once; exits non-zero with a readable message when
 * it cannot.
 */
export function runAdminKeyCommand(): void {
  issueAdminKey(loadConfig({ services: [governanceService.name] })).then(
    ({ principalId, secret }) => {
      process.stdout.write(
        `Trellis: issued a new API key to the admin user (${principalId}). It is shown this once; store it now:\n\n    ${secret}\n\n` +
          'Earlier keys still work until they are revoked (TokenService/RevokeApiKey).\n',
      );
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`Trellis could not issue an admin key: ${readableFailure(error)}\n`);
      process.exit(1);
    },
  );
}
