import { Injectable } from '@nestjs/common';
import { InjectPluginInstances, instanceFingerprint, InvalidArgumentError, PluginInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';

/**
 * Which storage instance holds a run's artifacts: each project chooses one of tracking's storage
 * instances for its new runs (`default` until it does; the kit keeps the choice); a run keeps the
 * one it was created with.
 */
@Injectable()
export class ArtifactStores {
  constructor(@InjectPluginInstances('storage') private readonly storage: PluginInstances<'storage'>) {}

  /** The instance a project's new runs use. */
  storeNameFor(projectId: string): Promise<string> {
    return this.storage.choiceFor(projectId);
  }

  /**
   * Chooses the project's instance: INVALID_ARGUMENT on `store` naming the instances there are for
   * another name (as SetArtifactStore always answered), FAILED_PRECONDITION when it is not healthy now.
   */
  async setStoreFor(projectId: string, name: string): Promise<void> {
    if (!this.storage.has(name)) {
      throw new InvalidArgumentError(`no storage instance is named ${JSON.stringify(name.slice(0, 100))}; instances: ${this.storage.names().join(', ')}`, 'store');
    }
    await this.storage.choose(projectId, name);
  }

  /** The kit's fingerprint of the named instance, by which another service tells whether it holds the same storage. */
  fingerprintOf(name: string): Promise<string> {
    return instanceFingerprint(this.storage, name);
  }

  /** The named instance (a run's may have been created through the API since this process started). */
  store(name: string): Promise<ObjectStore> {
    return this.storage.open(name);
  }
}
