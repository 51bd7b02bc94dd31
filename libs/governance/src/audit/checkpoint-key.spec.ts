import { createLogger, loadConfig, PluginRegistry } from '@trellis/platform';
import { definePlugin, z, type AnyPlugin, type KeyManager } from '@trellis/plugin-sdk';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governanceConfig } from '../governance.config';
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

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-checkpoint-key-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const sourceWith = (plugins: AnyPlugin[], checkpointKms?: { plugin: string; config?: unknown }) => {
    const registry = new PluginRegistry({ dataDir: join(dir, 'plugins') });
    for (const plugin of plugins) registry.register(plugin);
    const config = loadConfig({ env: { TRELLIS_DATA_DIR: join(dir, 'data') } });
    const settings = governanceConfig.parse({ checkpointKms });
    return new CheckpointKeySource(registry, config, settings, createLogger({ level: 'silent' }));
  };

  it('is kms-local by default, with a key file it writes under the data directory, readable by its owner only, and keeps', async () => {
    const configs: unknown[] = [];
    const keyFile = join(dir, 'data', 'keys', 'audit-checkpoint.key');

    expect(await sourceWith([recordingKms('kms-local', configs)]).key()).toHaveProperty('signer');
    expect(configs).toEqual([{ masterKeyFile: keyFile }]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile);
    expect(key).toHaveLength(32);

    await sourceWith([recordingKms('kms-local', configs)]).key();
    expect(readFileSync(keyFile).equals(key)).toBe(true);
  });

  it('is off, saying why, when nothing is configured and kms-local is not built in', async () => {
    expect(await sourceWith([]).key()).toEqual({ off: 'services.governance.checkpointKms is not set and kms-local, the default, is not built into this program' });
  });

  it('is the configured instance, which must exist and compute MACs', async () => {
    expect(await sourceWith([memoryKms], { plugin: 'kms-memory' }).key()).toHaveProperty('signer');
    await expect(sourceWith([], { plugin: 'kms-memory' }).key()).rejects.toThrow('uses plugin "kms-memory", which is not loaded');
    const wrapsOnly = recordingKms('kms-wrap-only', [], () => {
      const kms = new MemoryKeyManager();
      return { generateDataKey: kms.generateDataKey.bind(kms), wrapKey: kms.wrapKey.bind(kms), unwrapKey: kms.unwrapKey.bind(kms) };
    });
    await expect(sourceWith([wrapsOnly], { plugin: 'kms-wrap-only' }).key()).rejects.toThrow(
      'services.governance.checkpointKms: plugin kms-wrap-only computes no MACs (the kms contract\'s mac and verifyMac); audit checkpoints need a KMS that does, such as kms-local',
    );
  });
});
