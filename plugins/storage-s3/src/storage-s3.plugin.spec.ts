import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext, describeStorageConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'storage-s3-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const storeAt = (root: string) => plugin.create(createTestContext({ dataDir: base }), { root });

describe('storage-s3', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'storage', id: 'storage-s3' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses a config without a root, or with a key it does not know, naming it', async () => {
    await expect(createPluginInstance(plugin, {})).rejects.toThrow(/root/);
    await expect(createPluginInstance(plugin, { root: base, rooot: base })).rejects.toThrow(PluginConfigError);
    await expect(createPluginInstance(plugin, { root: base, rooot: base })).rejects.toThrow(/rooot/);
  });

  it('keeps objects for the next instance on the same directory', async () => {
    const root = await mkdtemp(join(base, 'kept-'));
    await (await storeAt(root)).put('kept/object', Buffer.from('still here'));
    expect(await (await storeAt(root)).head('kept/object')).toMatchObject({ key: 'kept/object', size: 10 });
  });
});

describeStorageConformance('storage-s3', async () => storeAt(await mkdtemp(join(base, 'root-'))));
