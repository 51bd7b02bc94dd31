import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';
import type { DatabaseConfig } from './database-config';
import { silentLogger, type KitLogger } from './logger';
import { CreateEventTables1767225600000 } from './migrations/1767225600000-create-event-tables';
import { outboxEntitySchema } from './outbox.entity';
import { processedEventEntitySchema } from './processed-event.entity';
import { readIntegersExactly } from './sqlite-integers';
import { serializeSqliteTransactions } from './sqlite-transactions';
import { TypeOrmLogAdapter } from './typeorm-logger';

/** What {@link openDatabase} needs to know about the service whose database it opens. */
export interface OpenDatabaseOptions {
  /** The service's name (`tracking`, `model-registry`): names its migrations table `<service>_migrations`. */
  service: string;
  /** Where the data lives. */
  database: DatabaseConfig;
  /** The service's entity classes (decorated), schemas or glob paths. The kit adds its own. */
  entities?: DataSourceOptions['entities'];
  /** The service's migration classes or glob paths. The kit adds its own; all run in timestamp order. */
  migrations?: DataSourceOptions['migrations'];
  /** Where migration progress and warnings go; silent by default. */
  logger?: KitLogger;
}

const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens a service's database and brings its schema up to date before returning.
 *
 * Promises:
 * - never `synchronize`: the schema is exactly what the migrations (the service's plus the kit's
 *   outbox and processed-events tables) make of it; pending migrations run before this resolves,
 *   recorded in `<service>_migrations`;
 * - on PostgreSQL, processes starting at once run migrations one after another (an advisory
 *   lock), and `schema` (lowercase letters, digits, underscores), if given, is created and put
 *   first on each connection's search path;
 * - on SQLite: WAL journal (for files) synced at every commit (`synchronous = FULL`, so an
 *   answered write survives a power loss), a busy timeout, foreign keys enforced, and
 *   `dataSource.transaction()` calls run one at a time, because every caller shares one connection;
 *   64-bit integers read back exactly (beyond 2^53 as decimal strings, as on PostgreSQL).
 *   Write inside `transaction()`: a write outside it may land in whichever transaction is open.
 *
 * If a migration fails, the DataSource is destroyed and the error is thrown.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DataSource> {
  const service = migrationsTablePrefix(options.service);
  const logger = options.logger ?? silentLogger;
  const kind = options.database.type;
  const common = {
    entities: [...listOf(options.entities), outboxEntitySchema(kind), processedEventEntitySchema(kind)],
    migrations: [CreateEventTables1767225600000, ...listOf(options.migrations)],
    migrationsTableName: `${service}_migrations`,
    migrationsRun: false,
    synchronize: false,
    logger: new TypeOrmLogAdapter(logger, options.service),
  };
  const database = options.database;
  const schema = database.type === 'postgres' && database.schema ? checkSchemaName(database.schema) : undefined;
  const dataSource =
    database.type === 'sqlite'
      ? new DataSource({
          ...common,
          type: 'better-sqlite3',
          database: database.path,
          enableWAL: database.path !== ':memory:',
          timeout: SQLITE_BUSY_TIMEOUT_MS,
          prepareDatabase: (db: Parameters<typeof readIntegersExactly>[0] & { pragma(source: string): unknown }) => {
            db.pragma('foreign_keys = ON');
            // An answered write survives a power loss: better-sqlite3's build makes WAL files opened again NORMAL.
            db.pragma('synchronous = FULL');
            readIntegersExactly(db);
          },
        })
      : new DataSource({
          ...common,
          type: 'postgres',
          url: database.url,
          schema,
          applicationName: `trellis-${options.service}`,
          extra: schema ? { options: `-c search_path=${schema},public` } : undefined,
        });

  if (database.type === 'postgres') await createDatabaseIfMissing(database.url, logger);
  await dataSource.initialize();
  try {
    if (database.type === 'postgres') {
      if (schema) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await runMigrationsLocked(dataSource, `${schema ?? 'public'}.${service}_migrations`);
    } else {
      await dataSource.runMigrations({ transaction: 'all' });
      serializeSqliteTransactions(dataSource);
    }
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  logger.info({ engine: kind, database: databaseName(database), migrationsTable: `${options.service}_migrations` }, 'database ready');
  return dataSource;
}

/**
 * Creates the service's PostgreSQL database when the server does not have it yet, so a new
 * deployment needs only a server and a role allowed to create databases. Several processes
 * starting at once may race; the loser sees `duplicate_database` and goes on.
 */
async function createDatabaseIfMissing(url: string, logger: KitLogger): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return;
  const probe = new Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  target.pathname = '/postgres';
  const admin = new Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    logger.info({ database: name }, 'created the service database');
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}

async function runMigrationsLocked(dataSource: DataSource, lockName: string): Promise<void> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    try {
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
    }
  } finally {
    await lock.release();
  }
}

/** What the database is called where it lives: the SQLite file, or the PostgreSQL database's name (never the URL's credentials). */
function databaseName(database: DatabaseConfig): string {
  if (database.type === 'sqlite') return database.path;
  const name = decodeURIComponent(new URL(database.url).pathname.slice(1)) || "(the login's default database)";
  return database.schema ? `${name}, schema ${database.schema}` : name;
}

function listOf<T>(list: MixedList<T> | undefined): T[] {
  if (!list) return [];
  return Array.isArray(list) ? list : Object.values(list);
}

function migrationsTablePrefix(service: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(service)) {
    throw new Error(`service name "${service}" must be lowercase letters, digits and dashes, starting with a letter`);
  }
  return service.replace(/-/g, '_');
}

function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`schema name "${schema}" must be lowercase letters, digits and underscores`);
  }
  return schema;
}
