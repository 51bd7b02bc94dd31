import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type TrellisConfig } from '@trellis/platform';
import { isPluginError, PluginRegistry, type ObjectStore } from '@trellis/plugin-sdk';

/** The storage instance the registry keeps its copies in. */
export const REGISTRY_STORE = 'default';

/**
 * The storage instance named `default`, created on first use: as configured under
 * `storage.default`, else storage-fs under `<dataDir>/artifacts`. That is the root tracking gives
 * the same instance, on purpose: in one process both services share the instance, and whichever
 * creates it first must put it where the other expects its files. The registry's keys all start
 * with `models/`, which no tracking key does.
 */
@Injectable()
export class RegistryStore {
  private opening?: Promise<ObjectStore>;

  constructor(
    private readonly plugins: PluginRegistry,
    @Inject(CONFIG) private readonly config: TrellisConfig,
  ) {}

  store(): Promise<ObjectStore> {
    if (!this.opening) {
      const opening = this.open();
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined;
      });
    }
    return this.opening;
  }

  private async open(): Promise<ObjectStore> {
    const configured = this.config.storage[REGISTRY_STORE];
    const spec = configured
      ? { name: REGISTRY_STORE, plugin: configured.plugin, config: configured.config }
      : { name: REGISTRY_STORE, plugin: 'storage-fs', config: { root: join(this.config.dataDir, 'artifacts') } };
    for (let attempt = 1; ; attempt++) {
      if (this.plugins.instanceNames('storage').includes(REGISTRY_STORE)) return this.plugins.getInstance('storage', REGISTRY_STORE);
      try {
        return await this.plugins.createInstance('storage', spec);
      } catch (error) {
        // Another service of this process is creating the same instance right now: use theirs.
        if (!isPluginError(error, 'PLUGIN_INSTANCE') || !error.message.includes('already exists') || attempt === 100) throw error;
        await sleep(20);
      }
    }
  }
}
