import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from './database-config';
import { openDatabase } from './open-database';
import { OutboxEntity } from './outbox.entity';
import { ProcessedEventEntity } from './processed-event.entity';
import { WidgetPartRow, WidgetRow, widgetTables } from './test-fixtures/widgets';

const engines: Array<[string, () => Promise<TestDatabase<DatabaseConfig>>]> = [
  ['SQLite', async () => testSqliteDatabase()],
  ['PostgreSQL', () => createTestDatabase()],
];

describe.each(engines)('openDatabase on %s', (_engine, makeDatabase) => {
  let database: TestDatabase<DatabaseConfig>;
  const open: DataSource[] = [];
  const openWidgets = async () => {
    const dataSource = await openDatabase({ service: 'kit-test', database: database.config, ...widgetTables });
    open.push(dataSource);
    return dataSource;
  };

  beforeEach(async () => {
    database = await makeDatabase();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((dataSource) => dataSource.isInitialized && dataSource.destroy()));
    await database.drop();
  });

  it('runs the kit and service migrations once, recorded in <service>_migrations', async () => {
    const first = await openWidgets();
    await first.destroy();
    const second = await openWidgets();

    const applied: Array<{ name: string }> = await second.query('SELECT name FROM kit_test_migrations ORDER BY id');
    expect(applied.map((row) => row.name)).toEqual(['CreateEventTables1767225600000', 'CreateKitWidgets1767312000000']);
    expect(await second.showMigrations()).toBe(false);
  });

  it('stores and reads back service rows and the kit tables through repositories', async () => {
    const dataSource = await openWidgets();
    await dataSource.getRepository(WidgetRow).insert({ id: 'w-1', name: 'sprocket', size: '9007199254740993' });
    await dataSource.getRepository(ProcessedEventEntity).insert({ consumer: 'c', eventId: 'e-1', processedAt: new Date('2026-01-02T03:04:05.678Z') });

    expect(await dataSource.getRepository(WidgetRow).findOneBy({ id: 'w-1' })).toEqual({ id: 'w-1', name: 'sprocket', size: '9007199254740993' });
    const processed = await dataSource.getRepository(ProcessedEventEntity).findOneByOrFail({ consumer: 'c', eventId: 'e-1' });
    expect(processed.processedAt.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0);
  });

  it('enforces foreign keys', async () => {
    const dataSource = await openWidgets();

    await expect(dataSource.getRepository(WidgetPartRow).insert({ id: 'p-1', widgetId: 'no-such-widget' })).rejects.toThrow(/foreign key/i);
  });

  it('never synchronizes: an entity without a migration has no table', async () => {
    const dataSource = await openDatabase({ service: 'kit-test', database: database.config, entities: [WidgetRow] });
    open.push(dataSource);

    await expect(dataSource.getRepository(WidgetRow).count()).rejects.toThrow(/kit_widgets/);
  });
});

describe('openDatabase on SQLite', () => {
  it('opens a file database in WAL mode, syncing every commit, also when it opens the file again', async () => {
    const database = testSqliteDatabase();
    try {
      for (const round of ['created', 'reopened']) {
        const dataSource = await openDatabase({ service: 'kit-test', database: database.config });
        try {
          expect([round, await dataSource.query('PRAGMA journal_mode')]).toEqual([round, [{ journal_mode: 'wal' }]]);
          // 2 is FULL: NORMAL (1), the build's default for a WAL file opened again, may lose acknowledged commits on a power loss.
          expect([round, await dataSource.query('PRAGMA synchronous')]).toEqual([round, [{ synchronous: 2 }]]);
        } finally {
          await dataSource.destroy();
        }
      }
    } finally {
      await database.drop();
    }
  });

  it('refuses a service name that cannot name a migrations table', async () => {
    await expect(openDatabase({ service: 'Kit Test', database: { type: 'sqlite', path: ':memory:' } })).rejects.toThrow(
      'service name "Kit Test" must be lowercase letters, digits and dashes, starting with a letter',
    );
  });
});

describe('openDatabase on PostgreSQL', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  const open: DataSource[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((dataSource) => dataSource.destroy()));
    await database.drop();
  });

  it('creates the configured schema and keeps every table of the service in it', async () => {
    const dataSource = await openDatabase({ service: 'kit-test', database: { ...database.config, schema: 'kit_space' }, ...widgetTables });
    open.push(dataSource);
    await dataSource.getRepository(WidgetRow).insert({ id: 'w-1', name: 'sprocket', size: '1' });

    const tables: Array<{ table_schema: string; table_name: string }> = await dataSource.query(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_name`,
    );
    expect(tables).toEqual(
      ['kit_seen_widgets', 'kit_test_migrations', 'kit_widget_parts', 'kit_widgets', 'trellis_outbox', 'trellis_processed_events'].map((name) => ({
        table_schema: 'kit_space',
        table_name: name,
      })),
    );
  });

  it('lets processes that start at the same moment migrate once between them', async () => {
    const all = await Promise.all(
      Array.from({ length: 3 }, () => openDatabase({ service: 'kit-test', database: database.config, ...widgetTables })),
    );
    open.push(...all);

    const applied: Array<{ count: string }> = await all[0].query('SELECT count(*) AS count FROM kit_test_migrations');
    expect(Number(applied[0].count)).toBe(2);
  });
});
