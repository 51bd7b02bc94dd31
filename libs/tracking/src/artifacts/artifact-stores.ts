import { Injectable } from '@nestjs/common';
import { DEFAULT_STORAGE, InvalidArgumentError, StorageInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { ArtifactRepository } from './artifact.repository';

/**
 * Which storage instance holds a run's artifacts: each project chooses one of the process's
 * configured instances for its new runs (`default` until it does); a run keeps the one it was
 * created with.
 */
@Injectable()
export class ArtifactStores {
  constructor(
    private readonly artifacts: ArtifactRepository,
    private readonly storage: StorageInstances,
  ) {}

  /** The instance a project's new runs use. */
  async storeNameFor(projectId: string): Promise<string> {
    return (await this.artifacts.storeNameOf(projectId)) ?? DEFAULT_STORAGE;
  }

  async setStoreFor(projectId: string, name: string): Promise<void> {
    if (!this.storage.has(name)) {
      throw new InvalidArgumentError(`no storage instance is named "${name}"; configured: ${this.storage.names().join(', ')}`, 'store');
    }
    await this.artifacts.setStoreName(projectId, name);
  }

  /** The named instance, created on first use (a run's instance may have left the config since). */
  store(name: string): Promise<ObjectStore> {
    return this.storage.open(name);
  }
}
