import { Readable } from 'node:stream';
import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeStorageConformance } from '@trellis/plugin-sdk/testing';
import plugin from './index';

describe('storage-memory-outside', () => {
  it('declares a manifest the host accepts', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
  });

  it('refuses an unknown config key, naming it', async () => {
    const failure = createPluginInstance(plugin, { readChunk: 10 });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/readChunk/);
  });

  it('streams reads in chunks of readChunkBytes', async () => {
    const store = await createPluginInstance(plugin, { readChunkBytes: 1024 });
    await store.put('chunked', Buffer.alloc(3000, 7));
    const sizes: number[] = [];
    for await (const chunk of (await store.get('chunked')) as Readable) sizes.push((chunk as Buffer).length);
    expect(sizes).toEqual([1024, 1024, 952]);
  });
});

describeStorageConformance('storage-memory-outside', () => createPluginInstance(plugin, {}));
