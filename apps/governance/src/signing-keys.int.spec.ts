import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import { createPluginInstance, createTestContext } from '@trellis/plugin-sdk/testing';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { decodeProtectedHeader } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

const ADMIN_KEY = `trellis_00000000000000ab_${'C'.repeat(43)}`;

/** What an Ed25519 private key in the clear looks like: PEM, its PKCS#8 DER prefix raw, and that prefix in base64 as PEM holds it. */
const CLEAR_KEY_MARKERS = [Buffer.from('PRIVATE KEY'), Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from('MC4CAQAwBQYDK2VwBCIEI')];

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The files under `dir` that hold a private key in the clear. */
function filesWithClearKeys(dir: string): string[] {
  return filesUnder(dir).filter((path) => {
    const bytes = readFileSync(path);
    return CLEAR_KEY_MARKERS.some((marker) => bytes.includes(marker));
  });
}

interface Setup {
  env: Record<string, string>;
  /** The signing_keys rows as the database holds them. */
  rows(): Promise<Array<{ kid: string; private_pem: string | null; wrapped_private_key: string | null }>>;
  cleanup(): Promise<void>;
}

const setups: Array<[string, (dir: string) => Promise<Setup>]> = [
  [
    'SQLite',
    async (dir) => ({
      env: { TRELLIS_MODE: 'standalone' },
      rows: async () => {
        // Read through a connection of its own, as anyone with the file could.
        const db = new DataSource({ type: 'better-sqlite3', database: join(dir, 'governance.sqlite'), readonly: true });
        await db.initialize();
        try {
          return await db.query('SELECT kid, private_pem, wrapped_private_key FROM signing_keys');
        } finally {
          await db.destroy();
        }
      },
      cleanup: async () => undefined,
    }),
  ],
  [
    'PostgreSQL',
    async () => {
      const [database, nats] = [await createTestDatabase(), testNatsConfig()];
      return {
        env: { TRELLIS_MODE: 'distributed', TRELLIS_GOVERNANCE_DATABASE_URL: database.config.url, ...nats.env },
        rows: async () => {
          const client = new Client({ connectionString: database.config.url });
          await client.connect();
          try {
            return (await client.query('SELECT kid, private_pem, wrapped_private_key FROM signing_keys')).rows;
          } finally {
            await client.end();
          }
        },
        cleanup: async () => {
          await nats.cleanup();
          await database.drop();
        },
      };
    },
  ],
];

describe.each(setups)("governance's token signing keys at rest (%s)", (database, prepare) => {
  const saved = { ...process.env };
  let dir: string;
  let setup: Setup;
  let running: RunningProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-signing-keys-'));
    setup = await prepare(dir);
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: dir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      ...setup.env,
    });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    process.env = { ...saved };
    await setup.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (withKms: boolean) => {
    running = await runProcess({ mode: process.env.TRELLIS_MODE as 'standalone' | 'distributed', services: [governanceService], plugins: withKms ? [kmsLocal] : [], print: () => undefined });
    return running.services[0].grpcAddress;
  };

  /** A token for the admin key, and whether governance accepts it for a call. */
  const exchange = async (address: string) => {
    const tokens = createGrpcClient(TokenServiceDesc, address);
    try {
      return (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    } finally {
      tokens.close();
    }
  };
  const projectsWith = async (address: string, token: string) => {
    const identity = createGrpcClient(IdentityServiceDesc, address, { token });
    try {
      return (await identity.listProjects({})).projects.map((project) => project.name);
    } finally {
      identity.close();
    }
  };

  it('keeps no signing key in the clear, and signs tokens it accepts', async () => {
    const address = await start(true);
    const token = await exchange(address);
    expect(await projectsWith(address, token)).toEqual(['default']);

    const rows = await setup.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ private_pem: null, wrapped_private_key: expect.any(String) });
    expect(CLEAR_KEY_MARKERS.some((marker) => Buffer.from(rows[0].wrapped_private_key!, 'base64').includes(marker))).toBe(false);
    await running!.stop();
    running = undefined;
    expect(filesWithClearKeys(dir)).toEqual([]);
  });

  it("wraps with the key file an older governance's data directory holds, so what it wrapped stays readable", async () => {
    // What governance wrote before its kms instances had names: <dataDir>/keys/signing-keys.key.
    const keyFile = join(dir, 'keys', 'signing-keys.key');
    const masterKey = randomBytes(32);
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(keyFile, masterKey, { mode: 0o600 });

    const address = await start(true);
    expect(await projectsWith(address, await exchange(address))).toEqual(['default']);
    const [row] = await setup.rows();
    // The wrapping's stored form: key id trellis-signing-keys, the row's kid as context; a kms-local on the old file opens it.
    const kms = await createPluginInstance(kmsLocal, { masterKeyFile: keyFile }, createTestContext({ dataDir: dir }));
    const der = await kms.unwrapKey('trellis-signing-keys', Buffer.from(row.wrapped_private_key!, 'base64'), { 'trellis.signing-key': row.kid });
    expect(Buffer.from(der).includes(CLEAR_KEY_MARKERS[1])).toBe(true);
    expect(readFileSync(keyFile).equals(masterKey)).toBe(true);
  });

  it('wraps the keys an older governance kept in the clear when it starts, and goes on signing with them', async () => {
    // A start without a KMS keeps the key in the clear, as governance did before keys were wrapped.
    let address = await start(false);
    const before = await exchange(address);
    const [clear] = await setup.rows();
    expect(clear.private_pem).toContain('PRIVATE KEY');
    await running!.stop();
    // The scan finds a key in the clear where there is one (only SQLite keeps the database in the data directory).
    expect(filesWithClearKeys(dir)).toEqual(database === 'SQLite' ? [join(dir, 'governance.sqlite')] : []);

    address = await start(true);
    const rows = await setup.rows();
    expect(rows).toEqual([{ kid: clear.kid, private_pem: null, wrapped_private_key: expect.any(String) }]);
    // The token signed before the upgrade still verifies, and new ones come from the same key.
    expect(await projectsWith(address, before)).toEqual(['default']);
    expect(decodeProtectedHeader(await exchange(address)).kid).toBe(clear.kid);
    await running!.stop();
    running = undefined;
    expect(filesWithClearKeys(dir)).toEqual([]);
  });
});
