import { join } from 'node:path';
import type { ObjectStore } from '@trellis/plugin-sdk';
import type { PluginRegistry } from '../plugins';
import { InvalidArgumentError } from '../errors';
import type { TrellisConfig } from '../config';

/** The storage instance every service may use without configuration. */
export const DEFAULT_STORAGE = 'default';

/**
 * The storage plugin instances of a process, by the names of the config's `storage` section;
 * `default` is storage-fs under `<dataDir>/artifacts` unless configured. Each is created on first
 * use, once for the whole process, so services that share an instance (tracking's artifacts,
 * registry's copies) share one object and one root.
 */
export class StorageInstances {
  private readonly opening = new Map<string, Promise<ObjectStore>>();

  constructor(
    private readonly plugins: PluginRegistry,
    private readonly config: TrellisConfig,
  ) {}

  /** The names a service may pick: `default` and every configured one. */
  names(): string[] {
    return [...new Set([DEFAULT_STORAGE, ...Object.keys(this.config.storage)])];
  }

  has(name: string): boolean {
    return name === DEFAULT_STORAGE || Object.hasOwn(this.config.storage, name);
  }

  /** The instance named `name`, created on first use; INVALID_ARGUMENT naming the configured ones for another name. */
  open(name: string): Promise<ObjectStore> {
    let opening = this.opening.get(name);
    if (!opening) {
      opening = this.create(name);
      this.opening.set(name, opening);
      // A failed start is not remembered: the next call tries again (the config may be fixed by then).
      opening.catch(() => this.opening.delete(name));
    }
    return opening;
  }

  private create(name: string): Promise<ObjectStore> {
    if (!this.has(name)) {
      return Promise.reject(new InvalidArgumentError(`no storage instance is named "${name}"; configured: ${this.names().join(', ')}`, 'store'));
    }
    const configured = Object.hasOwn(this.config.storage, name) ? this.config.storage[name] : undefined;
    return this.plugins.createInstance('storage', {
      name,
      plugin: configured?.plugin ?? 'storage-fs',
      config: configured ? configured.config : { root: join(this.config.dataDir, 'artifacts') },
    });
  }
}
