import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { uniqueTestName } from './run-id';

/** A throwaway database for one test file or case; `config` fits `openDatabase`'s `database`. */
export interface TestDatabase<Config> {
  config: Config;
  /** Removes the database and everything in it. Close DataSources on it first. */
  drop(): Promise<void>;
}

/** The PostgreSQL server tests use: `TRELLIS_TEST_PG_URL`, default the local trust-auth server. */
export function testPostgresUrl(): string {
  return process.env['TRELLIS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/**
 * Creates a fresh, empty PostgreSQL database `trellis_t_<run id>_<n>` on the test server (or the
 * server `serverUrl` names, e.g. one a chaos spec restarts) and returns its config; `drop()`
 * removes it even if connections are still open.
 */
export async function createTestDatabase(serverUrl = testPostgresUrl()): Promise<TestDatabase<{ type: 'postgres'; url: string }>> {
  const name = uniqueTestName('trellis_t');
  await withAdminClient(serverUrl, (client) => createDatabase(client, name));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    config: { type: 'postgres', url: url.toString() },
    drop: async () => {
      await withAdminClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** A SQLite database file in a new temporary directory; `drop()` deletes the directory. */
export function testSqliteDatabase(): TestDatabase<{ type: 'sqlite'; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-test-'));
  return {
    config: { type: 'sqlite', path: join(dir, 'test.sqlite') },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function createDatabase(client: Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE "${name}"`);
      return;
    } catch (error) {
      // 55006: another session is connected to template1, which CREATE DATABASE copies; it passes.
      if ((error as { code?: string }).code !== '55006' || attempt === 20) throw error;
      await sleep(100);
    }
  }
}

async function withAdminClient(serverUrl: string, work: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
