import { resolve } from 'node:path';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { FsObjectStore } from './fs-object-store';

/** The config of a storage-fs instance. */
export const storageFsConfig = z
  .object({
    /** The directory that holds the instance's objects; a relative path is taken from the working directory. */
    root: z.string().min(1, 'root must name a directory'),
  })
  .strict();

/** Storage on a local or mounted filesystem: the reference storage plugin, used by standalone Trellis. */
export const storageFsPlugin = definePlugin({
  manifest: { kind: 'storage', id: 'storage-fs', apiVersion: 'v1' },
  configSchema: storageFsConfig,
  create: (ctx, config) => FsObjectStore.open(resolve(config.root), ctx.logger),
});
