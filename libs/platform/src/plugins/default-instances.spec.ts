import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../persistence';
import { ConfiguredInstances, type InstanceSections } from './configured-instances';
import { type DefaultInstance, kmsLocalWithKeyFile } from './default-instances';
import { CreatePluginInstanceTables1767850000000 } from './plugin-instance-tables.migration';
import { PluginInstanceRepository } from './plugin-instance.repository';
import { PluginInstances } from './plugin-instances';
import { PluginRegistry } from './plugin-registry';

/** Which instance each kms-memory instance is, as the plugin was given it. */
const made: Array<{ instance: string; config: { label: string } }> = [];

const memoryKms = definePlugin({
  manifest: { kind: 'kms', id: 'kms-memory', apiVersion: 'v1' },
  configSchema: z.object({ label: z.string() }).strict(),
  create: (ctx, config) => {
    if (config.label === 'broken') throw new Error('the key vault answers 403');
    made.push({ instance: ctx.instanceName, config });
    return new MemoryKeyManager();
  },
});

const vault = (label: string): DefaultInstance => ({ plugin: 'kms-memory', config: async () => ({ label }) });

let dir: string;
let dataSource: DataSource;

beforeEach(async () => {
  made.length = 0;
  dir = await mkdtemp(join(tmpdir(), 'default-instances-'));
  dataSource = await openDatabase({ service: 'alpha', database: { type: 'sqlite', path: ':memory:' }, migrations: [CreatePluginInstanceTables1767850000000] });
});

afterEach(async () => {
  await dataSource.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** Two services of one process, alpha with its own defaults, beta with none; and the /readyz checks they add. */
async function twoServices(alphaDefaults: Record<string, DefaultInstance>, sections: InstanceSections = {}, plugins = [memoryKms]) {
  const registry = new PluginRegistry({ dataDir: join(dir, 'plugins') });
  for (const plugin of plugins) registry.register(plugin);
  const checks: string[] = [];
  const addReadinessCheck = (check: { name: string }) => {
    checks.push(check.name);
    return () => undefined;
  };
  const configured = new ConfiguredInstances(registry, { dataDir: dir, sections, addReadinessCheck });
  const records = new PluginInstanceRepository(dataSource);
  const alpha = new PluginInstances({ kind: 'kms', service: 'alpha', registry, configured, records, defaults: alphaDefaults, addReadinessCheck });
  const beta = new PluginInstances({ kind: 'kms', service: 'beta', registry, configured, records, addReadinessCheck });
  await alpha.start();
  await beta.start();
  return { alpha, beta, checks };
}

describe("a service's own default instances", () => {
  it('are made for that service alone, and show in /readyz under its name', async () => {
    const { alpha, beta, checks } = await twoServices({ vault: vault('alpha-only') });
    expect(made).toEqual([{ instance: 'vault', config: { label: 'alpha-only' } }]);
    expect(alpha.names()).toEqual(['vault']);
    expect(await alpha.open('vault')).toBeDefined();
    expect(beta.names()).toEqual([]);
    await expect(beta.open('vault')).rejects.toMatchObject({ code: status.NOT_FOUND, reason: 'PLUGIN_INSTANCE_NOT_FOUND' });
    expect(checks).toEqual(['alpha.plugin.kms.vault']);
    expect(await alpha.describe('vault')).toMatchObject({ name: 'vault', plugin: 'kms-memory', source: 'config', config: { label: 'alpha-only' } });
  });

  it('give way to a config section of the same name, which every service shares', async () => {
    const { alpha, beta } = await twoServices({ vault: vault('alpha-only') }, { kms: { vault: { plugin: 'kms-memory', config: { label: 'from-config' } } } });
    expect(made).toEqual([{ instance: 'vault', config: { label: 'from-config' } }]);
    expect(await alpha.open('vault')).toBe(await beta.open('vault'));
  });

  it('are not made when their plugin is not in the program', async () => {
    const { alpha } = await twoServices({ keys: kmsLocalWithKeyFile('keys.key') });
    expect(alpha.has('keys')).toBe(false);
    await expect(readFile(join(dir, 'keys', 'keys.key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keep their names from the admin API', async () => {
    const { alpha } = await twoServices({ vault: vault('alpha-only') });
    await expect(alpha.create({ name: 'vault', plugin: 'kms-memory', config: { label: 'mine' } }, 'admin-1')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: 'kms instance "vault" is one alpha makes for its own use, which a config section kms.vault replaces; change it there, or choose another name',
      reason: 'PLUGIN_INSTANCE_CONFIGURED',
    });
    await expect(alpha.delete('vault')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'PLUGIN_INSTANCE_CONFIGURED' });
  });

  it('stop the start with the plugin message under the config path that would replace them', async () => {
    await expect(twoServices({ vault: vault('broken') })).rejects.toThrow('kms.vault: ');
    await expect(twoServices({ vault: vault('broken') })).rejects.toThrow('the key vault answers 403');
  });
});
