import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyManager, PluginLogger } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import kmsLocal, { masterKeyId } from './index';

let dir: string;
const envNames: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-local-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  for (const name of envNames.splice(0)) delete process.env[name];
});

/** A key file holding `bytes` (or 32 random bytes), readable by its owner only. */
async function keyFile(contents: Buffer | string = randomBytes(32)): Promise<string> {
  const path = join(dir, `key-${randomBytes(4).toString('hex')}`);
  await writeFile(path, contents, { mode: 0o600 });
  return path;
}

function keyEnv(value: string): string {
  const name = `TRELLIS_TEST_MASTER_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[name] = value;
  envNames.push(name);
  return name;
}

async function create(config: unknown, logger?: PluginLogger): Promise<KeyManager> {
  return createPluginInstance(kmsLocal, config, createTestContext({ instanceName: 'keys', dataDir: dir, logger }));
}

/** The message `create` fails with; its cause is the plugin's own error. */
async function refusal(config: unknown): Promise<string> {
  const err = await create(config).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!err) throw new Error('the config was accepted');
  return err.message;
}

async function roundTrips(kms: KeyManager): Promise<boolean> {
  const { plaintext, wrapped } = await kms.generateDataKey('k', { object: 'a' });
  return Buffer.from(await kms.unwrapKey('k', wrapped, { object: 'a' })).equals(Buffer.from(plaintext));
}

describe('kms-local', () => {
  it('is a kms plugin, as its package says', () => {
    expect(kmsLocal.manifest).toEqual({ kind: 'kms', id: 'kms-local', apiVersion: 'v1' });
    expect(packageJson.trellis.kind).toBe('kms');
  });

  it('takes its master key from a file of 32 raw bytes, a file in base64, or an environment variable in base64', async () => {
    const key = randomBytes(32);
    const fromRaw = await create({ masterKeyFile: await keyFile(key) });
    const fromBase64 = await create({ masterKeyFile: await keyFile(`${key.toString('base64')}\n`) });
    const fromEnv = await create({ masterKeyEnv: keyEnv(key.toString('base64')) });
    for (const kms of [fromRaw, fromBase64, fromEnv]) expect(await roundTrips(kms)).toBe(true);
    const { wrapped } = await fromRaw.generateDataKey('k');
    expect(Buffer.from(await fromEnv.unwrapKey('k', wrapped))).toHaveLength(32);
    expect(Buffer.from(wrapped).subarray(1, 9).toString('hex')).toBe(masterKeyId(key));
  });

  it.each([
    [{}, 'set masterKeyFile (a file holding the 32-byte master key, raw or base64) or masterKeyEnv (an environment variable holding it in base64)'],
    [{ masterKeyFile: '/k', masterKeyEnv: 'K' }, 'set only one of masterKeyFile and masterKeyEnv: the current master key comes from one place'],
    [{ masterKeyEnv: 'NOT-A-NAME' }, 'masterKeyEnv: an environment variable name is letters, digits and _, not starting with a digit'],
    [{ masterKeyFile: '' }, 'masterKeyFile: a master key file path may not be empty'],
  ])('refuses the config %j: %s', async (config, reason) => {
    expect(await refusal(config)).toBe(`kms instance "keys" (plugin kms-local) has an invalid config: ${reason}`);
  });

  it('refuses a key file that is missing or holds anything but 32 bytes, naming the file and how to make one', async () => {
    const missing = join(dir, 'no-such-key');
    expect(await refusal({ masterKeyFile: missing })).toContain(`masterKeyFile: cannot read master key file ${missing}: there is no such file`);
    const short = await keyFile(randomBytes(16));
    expect(await refusal({ masterKeyFile: short })).toContain(
      `masterKeyFile: master key file ${short} holds 16 bytes; a master key is 32 random bytes, raw or in base64 (make one with: openssl rand -out ${short} 32)`,
    );
    const short64 = await keyFile(randomBytes(24).toString('base64'));
    expect(await refusal({ masterKeyFile: short64 })).toContain(`master key file ${short64} holds 24 bytes in base64`);
  });

  it('refuses an environment variable that is unset, not base64 or not 32 bytes', async () => {
    expect(await refusal({ masterKeyEnv: 'TRELLIS_TEST_UNSET_KEY' })).toContain(
      'masterKeyEnv: environment variable TRELLIS_TEST_UNSET_KEY is not set; it must hold the 32-byte master key in base64 (openssl rand -base64 32)',
    );
    const notBase64 = keyEnv('not base64!');
    expect(await refusal({ masterKeyEnv: notBase64 })).toContain(`environment variable ${notBase64} is not base64`);
    const long = keyEnv(randomBytes(64).toString('base64'));
    expect(await refusal({ masterKeyEnv: long })).toContain(`environment variable ${long} holds 64 bytes once decoded from base64; a master key is 32 random bytes`);
  });

  it('names which previous key is wrong, and every wrong key at once', async () => {
    const message = await refusal({ masterKeyFile: await keyFile(randomBytes(31)), previousMasterKeyFiles: [await keyFile(), join(dir, 'gone')], previousMasterKeyEnvs: ['TRELLIS_TEST_UNSET_KEY'] });
    expect(message).toMatch(/masterKeyFile: master key file .* holds 31 bytes/);
    expect(message).toContain(`previousMasterKeyFiles[1]: cannot read master key file ${join(dir, 'gone')}`);
    expect(message).toContain('previousMasterKeyEnvs[0]: environment variable TRELLIS_TEST_UNSET_KEY is not set');
  });

  it('never puts key material in a message', async () => {
    const key = randomBytes(40);
    const message = await refusal({ masterKeyEnv: keyEnv(key.toString('base64')) });
    expect(message).not.toContain(key.toString('base64'));
    expect(message).not.toContain(key.toString('hex'));
  });

  it('warns when the key file can be read by other users', async () => {
    const warnings: string[] = [];
    const logger: PluginLogger = { debug: () => undefined, info: () => undefined, warn: (_o, msg) => warnings.push(msg ?? ''), error: () => undefined };
    const path = await keyFile();
    await create({ masterKeyFile: path }, logger);
    expect(warnings).toEqual([]);
    await chmod(path, 0o644);
    await create({ masterKeyFile: path }, logger);
    expect(warnings).toEqual(['the master key file can be read by other users than its owner; chmod 600 it']);
  });

  it('is made by create() with a test context as well', async () => {
    const kms = await kmsLocal.create(createTestContext({ dataDir: dir }), kmsLocal.configSchema.parse({ masterKeyFile: await keyFile() }));
    expect(await roundTrips(kms)).toBe(true);
  });
});
