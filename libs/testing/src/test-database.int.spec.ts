import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { testRunId } from './run-id';
import { createTestDatabase, testPostgresUrl, testSqliteDatabase } from './test-database';

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('creates an empty database named after the run, and drop() removes it even while connected', async () => {
    const database = await createTestDatabase();
    const name = new URL(database.config.url).pathname.slice(1);
    expect(name).toMatch(new RegExp(`^trellis_t_${testRunId()}_${process.pid}_\\d+$`));
    expect(await databaseExists(name)).toBe(true);
    const client = new Client({ connectionString: database.config.url });
    await client.connect();
    client.on('error', () => undefined);
    const tables = await client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.rows[0].n).toBe(0);

    await database.drop();

    expect(await databaseExists(name)).toBe(false);
    await client.end().catch(() => undefined);
  });

  it('gives every call its own database', async () => {
    const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(one.config.url).not.toBe(two.config.url);
    } finally {
      await Promise.all([one.drop(), two.drop()]);
    }
  });
});

describe('testSqliteDatabase', () => {
  it('names a file in a fresh directory that drop() deletes', async () => {
    const database = testSqliteDatabase();
    expect(database.config.type).toBe('sqlite');
    writeFileSync(database.config.path, 'data');

    await database.drop();

    expect(existsSync(dirname(database.config.path))).toBe(false);
  });
});
