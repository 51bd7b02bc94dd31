import { Inject, Injectable } from '@nestjs/common';
import type { KeyManager } from '@trellis/plugin-sdk';
import { join, resolve } from 'node:path';
import type { TrellisConfig } from '../config';
import { InvalidArgumentError } from '../errors';
import { PluginRegistry } from '../plugins';
import { CONFIG } from '../service/kit.module';
import { writeKeyFileIfMissing } from './key-file';

/** The KMS instance a project's objects are encrypted through unless it chose another. */
export const DEFAULT_KMS = 'default';

/** The KMS key id that wraps the data keys of stored objects (each key record names the id it used). */
export const OBJECT_KEY_ID = 'trellis-objects';

/** Where encryption finds a KMS instance by the name a run or version recorded. */
export interface KeyManagerSource {
  /** The instance named `name`, created on first use; INVALID_ARGUMENT for a name there is none of. */
  keyManager(name: string): Promise<KeyManager>;
}

/** Instances opened per process (the services of a standalone process share its registry). */
const opened = new WeakMap<PluginRegistry, Map<string, Promise<KeyManager>>>();

/**
 * The process's KMS instances for encryption at rest: `default` is kms-local with the key file
 * `<dataDir>/keys/kms-default.key` (32 random bytes, mode 600, written at first use). Each is
 * created once per process, so tracking and the registry of one process share it.
 */
@Injectable()
export class KmsInstances implements KeyManagerSource {
  constructor(
    private readonly plugins: PluginRegistry,
    @Inject(CONFIG) private readonly config: TrellisConfig,
  ) {}

  keyManager(name: string): Promise<KeyManager> {
    let byName = opened.get(this.plugins);
    if (!byName) opened.set(this.plugins, (byName = new Map()));
    let opening = byName.get(name);
    if (!opening) {
      opening = this.create(name);
      byName.set(name, opening);
      // A failed start is not remembered: the next call tries again.
      opening.catch(() => byName?.delete(name));
    }
    return opening;
  }

  private async create(name: string): Promise<KeyManager> {
    // An instance the process's configured instances already made (the config's `kms` section).
    if (this.plugins.instanceNames('kms').includes(name)) return this.plugins.getInstance('kms', name);
    if (name !== DEFAULT_KMS) throw new InvalidArgumentError(`no kms instance is named "${name}"; instances: ${DEFAULT_KMS}`, 'kms');
    if (!this.plugins.plugin('kms', 'kms-local')) {
      throw new InvalidArgumentError(`the kms instance "${DEFAULT_KMS}" is kms-local, which is not built into this program: add @trellis/plugin-kms-local to plugins (TRELLIS_PLUGINS)`, 'kms');
    }
    const masterKeyFile = resolve(join(this.config.dataDir, 'keys', `kms-${DEFAULT_KMS}.key`));
    await writeKeyFileIfMissing(masterKeyFile);
    return this.plugins.createInstance('kms', { name: DEFAULT_KMS, plugin: 'kms-local', config: { masterKeyFile } });
  }
}
