import { resolve } from 'node:path';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { DirectoryObjectStore } from './directory-object-store';

/** The config of a storage-s3 instance. */
export const storageS3Config = z
  .object({
    /** The directory that holds the instance's objects; a relative path is taken from the working directory. */
    root: z.string().min(1, 'root must name a directory'),
  })
  .strict();

/** Storage in a directory, one file per object. */
export const storageS3Plugin = definePlugin({
  manifest: { kind: 'storage', id: 'storage-s3', apiVersion: 'v1' },
  configSchema: storageS3Config,
  create: (_ctx, config) => DirectoryObjectStore.open(resolve(config.root)),
});
