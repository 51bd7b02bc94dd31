import { Injectable } from '@nestjs/common';
import { DEFAULT_STORAGE, InvalidArgumentError, StorageInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { DataSource } from 'typeorm';
import { ProjectSettingsEntity } from '../runs/run.entity';

/**
 * Which storage instance holds a run's artifacts: each project chooses one of the process's
 * configured instances for its new runs (`default` until it does); a run keeps the one it was
 * created with.
 */
@Injectable()
export class ArtifactStores {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: StorageInstances,
  ) {}

  /** The instance a project's new runs use. */
  async storeNameFor(projectId: string): Promise<string> {
    const settings = await this.dataSource.getRepository(ProjectSettingsEntity).findOneBy({ projectId });
    return settings?.artifactStore ?? DEFAULT_STORAGE;
  }

  async setStoreFor(projectId: string, name: string): Promise<void> {
    if (!this.storage.has(name)) {
      throw new InvalidArgumentError(`no storage instance is named "${name}"; configured: ${this.storage.names().join(', ')}`, 'store');
    }
    await this.dataSource.transaction((manager) => manager.upsert(ProjectSettingsEntity, { projectId, artifactStore: name }, ['projectId']));
  }

  /** The named instance, created on first use (a run's instance may have left the config since). */
  store(name: string): Promise<ObjectStore> {
    return this.storage.open(name);
  }
}
