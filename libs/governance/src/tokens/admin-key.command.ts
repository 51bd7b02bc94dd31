import { AuditRecorder, ConfigError, createLogger, databaseFor, readableFailure, loadConfig, openDatabase, Outbox, resourceName, type TrellisConfig } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { governanceService } from '../governance.definition';
import { IdentityRepository } from '../identity/identity.repository';
import { TokenRepository } from './token.repository';
import { storeApiKey } from './token.service';

/** A key issued to the admin by someone holding governance's database. */
export interface IssuedAdminKey {
  principalId: string;
  apiKeyId: string;
  secret: string;
}

/**
 * Issues a new API key to the admin user created at first start, writing straight into
 * governance's database as `config` names it (the standalone data directory, or PostgreSQL in
 * distributed mode), for an operator who lost the admin key or never saw it. Whoever can write
 * that database can do this anyway; the change is audited as the operator's (`operator:<user>@<host>`),
 * and earlier keys keep working until revoked. Governance may be running meanwhile.
 */
export async function issueAdminKey(config: TrellisConfig): Promise<IssuedAdminKey> {
  const database = databaseFor('governance', config);
  if (database.type === 'sqlite' && !existsSync(database.path)) {
    throw new ConfigError(
      `no governance database at ${resolve(database.path)}: run this with the data directory Trellis uses (dataDir, TRELLIS_DATA_DIR), or in distributed mode with its TRELLIS_DATABASE_URL`,
    );
  }
  const dataSource = await openDatabase({
    service: governanceService.name,
    database,
    entities: governanceService.entities,
    migrations: governanceService.migrations,
  });
  try {
    const audit = new AuditRecorder(governanceService.name, dataSource, new Outbox(), createLogger({ level: 'silent' }));
    const tokens = new TokenRepository(dataSource);
    const identities = new IdentityRepository(dataSource);
    return await tokens.transaction(async (tx) => {
      const admin = await identities.firstAdminForUpdate(tx);
      if (!admin) throw new ConfigError('this governance database has no admin user yet: start Trellis once, and it creates one');
      const { apiKey, secret } = await storeApiKey(tokens, tx, admin.id, { name: 'admin key issued by an operator', projectIds: [], expiresAt: null });
      await audit.recordChangeIn(tx, {
        actor: `operator:${userInfo().username}@${hostname()}`,
        action: 'create',
        method: 'trellis.governance.v1.TokenService/CreateApiKey',
        resource: resourceName(['apiKeys', apiKey.id]),
        projectId: '',
        requestId: randomUUID(),
        clientAddress: 'local',
      });
      return { principalId: admin.id, apiKeyId: apiKey.id, secret };
    });
  } finally {
    await dataSource.destroy();
  }
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
