import {
  ConfiguredInstances,
  createLogger,
  CreatePluginInstanceTables1767850000000,
  openDatabase,
  PluginInstanceRepository,
  PluginInstances,
  PluginRegistry,
  type InstanceSections,
} from '@trellis/platform';
import { definePlugin, z, type AnyPlugin, type KeyManager } from '@trellis/plugin-sdk';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { governanceConfig } from '../governance.config';
import { GOVERNANCE_KMS_DEFAULTS } from '../kms-instances';
import { CheckpointKeySource } from './checkpoint-key';
import { memoryKms } from './test-fixtures/audit-fixtures';

/** A kms plugin `id` whose instances keep the config they were given. */
function recordingKms(id: string, configs: unknown[], make: () => KeyManager = () => new MemoryKeyManager()): AnyPlugin {
  return definePlugin({
    manifest: { kind: 'kms', id, apiVersion: 'v1' },
    configSchema: z.object({ masterKeyFile: z.string().optional() }),
    create: async (_ctx, config) => {
      configs.push(config);
      return make();
    },
  });
}

describe('the key that signs audit checkpoints', () => {
  let dir: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-checkpoint-key-'));
    dataSource = await openDatabase({ service: 'governance', database: { type: 'sqlite', path: ':memory:' }, migrations: [CreatePluginInstanceTables1767850000000] });
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The source as governance gets it: its kms instances started by the kit, with its own defaults. */
  const sourceWith = async (plugins: AnyPlugin[], settings: { checkpointKms?: string } = {}, sections: InstanceSections = {}) => {
    const registry = new PluginRegistry({ dataDir: join(dir, 'plugins') });
    for (const plugin of plugins) registry.register(plugin);
    const configured = new ConfiguredInstances(registry, { dataDir: join(dir, 'data'), sections });
    const kms = new PluginInstances({ kind: 'kms', service: 'governance', registry, configured, records: new PluginInstanceRepository(dataSource), defaults: GOVERNANCE_KMS_DEFAULTS });
    await kms.start();
    return new CheckpointKeySource(kms, governanceConfig.parse(settings), createLogger({ level: 'silent' }));
  };

  it('is kms-local by default, with a key file it writes under the data directory, readable by its owner only, and keeps', async () => {
    const configs: unknown[] = [];
    const keyFile = join(dir, 'data', 'keys', 'audit-checkpoint.key');

    expect(await (await sourceWith([recordingKms('kms-local', configs)])).key()).toHaveProperty('signer');
    expect(configs).toContainEqual({ masterKeyFile: keyFile });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile);
    expect(key).toHaveLength(32);

    await (await sourceWith([recordingKms('kms-local', configs)])).key();
    expect(readFileSync(keyFile).equals(key)).toBe(true);
  });

  it('is off, saying why, when nothing is configured and kms-local is not built in', async () => {
    expect(await (await sourceWith([])).key()).toEqual({ off: 'services.governance.checkpointKms is not set and kms-local, the default, is not built into this program' });
  });

  it('is the instance the setting names, or the config section that replaces the default', async () => {
    const configs: unknown[] = [];
    const kmsLocal = recordingKms('kms-local', configs);
    expect(await (await sourceWith([memoryKms], { checkpointKms: 'checkpoints' }, { kms: { checkpoints: { plugin: 'kms-memory', config: {} } } })).key()).toHaveProperty('signer');
    expect(await (await sourceWith([memoryKms, kmsLocal], {}, { kms: { 'audit-checkpoints': { plugin: 'kms-memory', config: {} } } })).key()).toHaveProperty('signer');
    expect(configs).not.toContainEqual({ masterKeyFile: join(dir, 'data', 'keys', 'audit-checkpoint.key') });
  });

  it('stops the start when the named instance does not exist or computes no MACs', async () => {
    await expect((await sourceWith([recordingKms('kms-local', [])], { checkpointKms: 'vault' })).key()).rejects.toThrow(
      'services.governance.checkpointKms: governance has no kms instance named "vault"; its kms instances: default, audit-checkpoints, signing-keys',
    );
    const wrapsOnly = recordingKms('kms-wrap-only', [], () => {
      const kms = new MemoryKeyManager();
      return { generateDataKey: kms.generateDataKey.bind(kms), wrapKey: kms.wrapKey.bind(kms), unwrapKey: kms.unwrapKey.bind(kms) };
    });
    await expect((await sourceWith([wrapsOnly], { checkpointKms: 'wraps' }, { kms: { wraps: { plugin: 'kms-wrap-only', config: {} } } })).key()).rejects.toThrow(
      'services.governance.checkpointKms: kms instance "wraps" (plugin kms-wrap-only) computes no MACs (the kms contract\'s mac and verifyMac); audit checkpoints need a KMS that does, such as kms-local',
    );
  });

  it('refuses the setting written as an instance, as it was before instances had names, saying where it goes now', () => {
    const parsed = governanceConfig.safeParse({ checkpointKms: { plugin: 'kms-vault', config: { address: 'https://vault' } } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['checkpointKms'],
        message:
          'names a kms instance now: move { plugin, config } to the section kms.audit-checkpoints and remove services.governance.checkpointKms, or to kms.<name> and set services.governance.checkpointKms: <name>',
      }),
    ]);
  });
});
