import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { PluginKind } from '@trellis/plugin-sdk';

/**
 * An instance the kit makes when the config declares none of its name (`<kind>.<name>`): the kit's
 * `default` of a kind, or one a service declares for its own use in `defineService({ plugins: {
 * kms: { defaults } } })`. It is made only when its plugin is in the program; a config section of
 * the same name replaces it.
 */
export interface DefaultInstance {
  /** Its plugin's id. */
  plugin: string;
  /** Its config, given the process's data directory; may first write what the instance needs (a key file). */
  config(dataDir: string): Promise<unknown>;
}

/**
 * kms-local with the master key file `<dataDir>/keys/<fileName>`, written with 32 random bytes,
 * readable by this user only, when it is missing: the first start makes the key, later starts (and
 * upgrades) keep it, so what it wrapped stays readable.
 */
export function kmsLocalWithKeyFile(fileName: string): DefaultInstance {
  return {
    plugin: 'kms-local',
    async config(dataDir) {
      const masterKeyFile = resolve(dataDir, 'keys', fileName);
      await writeKeyFileIfMissing(masterKeyFile);
      return { masterKeyFile };
    },
  };
}

/** storage-fs keeping its objects under `<dataDir>/<folder>`. */
export function storageFsUnder(folder: string): DefaultInstance {
  return { plugin: 'storage-fs', config: async (dataDir) => ({ root: join(dataDir, folder) }) };
}

/** The kit's `default` instance of each kind that has one: what a project uses until it chooses. */
export const KIT_DEFAULTS: Readonly<Partial<Record<PluginKind, DefaultInstance>>> = {
  storage: storageFsUnder('artifacts'),
  kms: kmsLocalWithKeyFile('kms-default.key'),
};

async function writeKeyFileIfMissing(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, randomBytes(32), { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
