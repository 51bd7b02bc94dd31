import { AuditRecorder, ConfigError, createLogger, databaseFor, openDatabase, Outbox, type TrellisConfig } from '@trellis/platform';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { governanceService } from '../governance.definition';
import { IdentityRepository } from '../identity/identity.repository';
import type { KeyRepositories } from './operator-keys';
import { TokenRepository } from './token.repository';

/**
 * Runs `work` on governance's database as `config` names it (the standalone data directory, or
 * PostgreSQL in distributed mode), for a command an operator runs while governance may be running;
 * a data directory with no governance database is a ConfigError saying where to run it.
 */
export async function withGovernanceDatabase<T>(config: TrellisConfig, work: (repositories: KeyRepositories) => Promise<T>): Promise<T> {
  const database = databaseFor('governance', config);
  if (database.type === 'sqlite' && !existsSync(database.path)) {
    throw new ConfigError(
      `no governance database at ${resolve(database.path)}: run this with the data directory Trellis uses (dataDir, TRELLIS_DATA_DIR), or in distributed mode with its TRELLIS_DATABASE_URL`,
    );
  }
  const dataSource = await openDatabase({ service: governanceService.name, database, entities: governanceService.entities, migrations: governanceService.migrations });
  try {
    const audit = new AuditRecorder(governanceService.name, dataSource, new Outbox(), createLogger({ level: 'silent' }));
    return await work({ tokens: new TokenRepository(dataSource), identities: new IdentityRepository(dataSource), audit });
  } finally {
    await dataSource.destroy();
  }
}
