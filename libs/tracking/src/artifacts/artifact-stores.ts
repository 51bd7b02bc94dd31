import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, InvalidArgumentError, type TrellisConfig } from '@trellis/platform';
import { PluginRegistry, type ObjectStore } from '@trellis/plugin-sdk';
import { DataSource } from 'typeorm';
import { ProjectSettingsEntity } from '../runs/run.entity';

/** The storage instance projects use until they choose another. */
export const DEFAULT_STORE = 'default';

/**
 * The storage plugin instances artifacts live in. Instances are configured under `storage`
 * (name, plugin, config); `default` is storage-fs under the data directory unless configured.
 * Each project chooses one for its new runs; a run keeps the one it was created with.
 */
@Injectable()
export class ArtifactStores {
  private readonly opening = new Map<string, Promise<ObjectStore>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly plugins: PluginRegistry,
    @Inject(CONFIG) private readonly config: TrellisConfig,
  ) {}

  /** The instance a project's new runs use. */
  async storeNameFor(projectId: string): Promise<string> {
    const settings = await this.dataSource.getRepository(ProjectSettingsEntity).findOneBy({ projectId });
    return settings?.artifactStore ?? DEFAULT_STORE;
  }

  async setStoreFor(projectId: string, name: string): Promise<void> {
    if (!this.isConfigured(name)) {
      const known = [DEFAULT_STORE, ...Object.keys(this.config.storage)].filter((value, index, all) => all.indexOf(value) === index);
      throw new InvalidArgumentError(`no storage instance is named "${name}"; configured: ${known.join(', ')}`, 'store');
    }
    await this.dataSource.transaction((manager) => manager.upsert(ProjectSettingsEntity, { projectId, artifactStore: name }, ['projectId']));
  }

  /** The named instance, created on first use. */
  store(name: string): Promise<ObjectStore> {
    let opening = this.opening.get(name);
    if (!opening) {
      opening = this.open(name);
      this.opening.set(name, opening);
      opening.catch(() => this.opening.delete(name));
    }
    return opening;
  }

  private isConfigured(name: string): boolean {
    return name === DEFAULT_STORE || name in this.config.storage;
  }

  private async open(name: string): Promise<ObjectStore> {
    if (this.plugins.instanceNames('storage').includes(name)) return this.plugins.getInstance('storage', name);
    const configured = this.config.storage[name];
    if (configured) return this.plugins.createInstance('storage', { name, plugin: configured.plugin, config: configured.config });
    if (name !== DEFAULT_STORE) throw new InvalidArgumentError(`storage instance "${name}" is no longer configured`, 'store');
    return this.plugins.createInstance('storage', { name, plugin: 'storage-fs', config: { root: join(this.config.dataDir, 'artifacts') } });
  }
}
