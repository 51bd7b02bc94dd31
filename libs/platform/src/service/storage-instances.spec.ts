import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { PluginRegistry } from '../plugins';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { configSchema } from '../config';
import { InvalidArgumentError } from '../errors';
import { StorageInstances } from './storage-instances';

describe('storage instances of a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-storage-'));
  const roots: string[] = [];
  const storageFs = definePlugin({
    manifest: { kind: 'storage', id: 'storage-fs', apiVersion: 'v1' },
    configSchema: z.object({ root: z.string() }),
    create: async (_ctx, config) => {
      roots.push(config.root);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return new MemoryObjectStore();
    },
  });
  const storageFor = (storage: Record<string, unknown> = {}) => {
    const plugins = new PluginRegistry({ dataDir: join(dir, 'plugins') });
    plugins.register(storageFs);
    return new StorageInstances(plugins, configSchema.parse({ dataDir: dir, storage }));
  };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates default once for every service that asks at the same time, under <dataDir>/artifacts', async () => {
    roots.length = 0;
    const storage = storageFor();
    const [a, b, c] = await Promise.all([storage.open('default'), storage.open('default'), storage.open('default')]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(roots).toEqual([join(dir, 'artifacts')]);
  });

  it('opens configured instances by name and names them when asked for another', async () => {
    roots.length = 0;
    const storage = storageFor({ 'team-a': { plugin: 'storage-fs', config: { root: '/srv/team-a' } } });
    expect(storage.names()).toEqual(['default', 'team-a']);
    await storage.open('team-a');
    expect(roots).toEqual(['/srv/team-a']);
    await expect(storage.open('team-b')).rejects.toThrow(InvalidArgumentError);
    await expect(storage.open('team-b')).rejects.toThrow('configured: default, team-a');
    expect(storage.has('toString')).toBe(false);
  });
});
