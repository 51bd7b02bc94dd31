import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryStore } from './memory-store';

/** The config of an instance: `storage.<name>.config` in trellis.yaml, checked before `create()`. */
export const memoryStorageConfig = z
  .object({
    /** Size of the chunks a read streams, in bytes. */
    readChunkBytes: z.number().int().min(1024).max(8 * 1024 * 1024).default(64 * 1024),
  })
  .strict();

/** Objects in the process's memory: gone when it stops. For trials and tests, not for data to keep. */
export default definePlugin({
  manifest: { kind: 'storage', id: 'storage-memory-outside', apiVersion: 'v1' },
  configSchema: memoryStorageConfig,
  create: (ctx, config) => {
    ctx.logger.info({ readChunkBytes: config.readChunkBytes }, 'objects are kept in memory and lost when the process stops');
    return new MemoryStore(config.readChunkBytes);
  },
});

export { MemoryStore } from './memory-store';
