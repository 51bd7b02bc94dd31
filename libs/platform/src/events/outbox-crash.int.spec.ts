import type { EventEnvelope } from '@trellis/proto';
import { createTestDatabase, eventually, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DatabaseConfig } from '../persistence/database-config';
import { openDatabase } from '../persistence/open-database';
import { OutboxEntity } from '../persistence/outbox.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import { OutboxRelay } from './outbox-relay';

const repo = join(__dirname, '..', '..', '..', '..');

/**
 * Runs test-fixtures/crashing-producer.ts until it has reported `commits` committed events, kills
 * it with SIGKILL, and returns the ids it reported committed, in order. Its relay appends the ids
 * it delivered to `deliveredFile`.
 */
async function killProducerAfter(config: DatabaseConfig, deliveredFile: string, commits: number): Promise<string[]> {
  const producer = spawn(process.execPath, [join(repo, 'tools', 'bench', 'run.cjs'), join(__dirname, 'test-fixtures', 'crashing-producer.ts'), JSON.stringify(config), deliveredFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(producer, 'exit');
  const committed: string[] = [];
  let pending = '';
  producer.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('committed ')) committed.push(line.slice('committed '.length));
    if (committed.length >= commits) producer.kill('SIGKILL');
  });
  const [, signal] = (await exited) as [number | null, string | null];
  expect(signal).toBe('SIGKILL');
  return committed;
}

describe.each([
  ['SQLite', () => testSqliteDatabase()],
  ['PostgreSQL', () => createTestDatabase()],
] as Array<[string, () => TestDatabase<DatabaseConfig> | Promise<TestDatabase<DatabaseConfig>>]>)('the outbox across a SIGKILL, on %s', (_engine, makeDatabase) => {
  let database: TestDatabase<DatabaseConfig>;

  beforeEach(async () => {
    database = await makeDatabase();
  });

  afterEach(async () => {
    await database.drop();
  });

  // Killed at three moments, a process of its own each time, on one database; then a new relay drains it.
  it('delivers every committed event after the service is killed at any point, in commit order, each id at least once', async () => {
    const work = mkdtempSync(join(tmpdir(), 'trellis-outbox-crash-'));
    const deliveredFile = join(work, 'delivered.log');
    const committed: string[] = [];
    let deliveredBefore: string[];
    try {
      for (const commits of [7, 40, 120]) committed.push(...(await killProducerAfter(database.config, deliveredFile, commits)));
      deliveredBefore = existsSync(deliveredFile) ? readFileSync(deliveredFile, 'utf8').split('\n').filter(Boolean) : [];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

    const dataSource = await openDatabase({ service: 'crash-test', database: database.config, ...widgetTables });
    const deliveredAfter: EventEnvelope[] = [];
    const relay = new OutboxRelay({
      dataSource,
      pollIntervalMs: 10,
      bus: {
        publish: async (envelope) => void deliveredAfter.push(envelope),
        subscribe: () => Promise.reject(new Error('not used')),
        watch: () => Promise.reject(new Error('not used')),
        close: async () => undefined,
      },
    });
    relay.start();
    try {
      await eventually(async () => expect(await dataSource.getRepository(OutboxEntity).count()).toBe(0));
    } finally {
      await relay.stop();
      await dataSource.destroy();
    }

    const delivered = [...deliveredBefore, ...deliveredAfter.map((envelope) => envelope.id)];
    const missing = committed.filter((id) => !delivered.includes(id));
    expect(missing).toEqual([]);
    // Each relay hands out what it reads in commit order: the restarted one continues where the killed ones left off.
    const order = new Map(committed.map((id, index) => [id, index]));
    const afterInOrder = deliveredAfter.map((envelope) => order.get(envelope.id)).filter((index): index is number => index !== undefined);
    expect(afterInOrder).toEqual([...afterInOrder].sort((a, b) => a - b));
  });
});
