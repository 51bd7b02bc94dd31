import { Injectable } from '@nestjs/common';
import { type Caller, encryptedAtRest, ProjectEncryption } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import type { RunEntity } from '../runs/run.entity';
import { ArtifactStores } from './artifact-stores';

/**
 * Each run's artifact store: its storage instance, seen through its KMS instance when the run was
 * created in a project that asks for encryption at rest. A run keeps both for life, so turning the
 * project's flag on or off changes new runs only, and reads always decrypt what was encrypted.
 */
@Injectable()
export class RunArtifactStores {
  constructor(
    private readonly stores: ArtifactStores,
    private readonly encryption: ProjectEncryption,
  ) {}

  /** The KMS instance that will encrypt the artifacts of a run created now in `projectId`; null when its project does not ask. */
  kmsForNewRun(caller: Caller, projectId: string): Promise<string | null> {
    return this.encryption.kmsFor(caller, projectId);
  }

  /** The store of `run`'s artifacts, encrypting and decrypting when the run is encrypted. */
  async of(run: Pick<RunEntity, 'artifactStore' | 'artifactKms'>): Promise<ObjectStore> {
    const store = await this.stores.store(run.artifactStore);
    return run.artifactKms ? encryptedAtRest(store, await this.encryption.keyManager(run.artifactKms)) : store;
  }
}
