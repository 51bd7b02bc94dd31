import { Injectable } from '@nestjs/common';
import { encryptedPerResource, InjectPluginInstances, instanceFingerprint, PluginInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { VersionEncryption } from './version-encryption';

/**
 * The registry's storage instances. Each project chooses the one its new versions are copied into
 * (`default` until it does; the kit keeps the choice), and a version keeps the one it was created
 * with for life. The registry's keys all start with `models/`, which no tracking key does
 * (tracking's start with an experiment id), so an instance tracking also uses is shared safely.
 */
@Injectable()
export class RegistryStore {
  constructor(
    @InjectPluginInstances('storage') private readonly storage: PluginInstances<'storage'>,
    private readonly encryption: VersionEncryption,
  ) {}

  /** The instance a project's new versions are copied into. */
  storeNameFor(projectId: string): Promise<string> {
    return this.storage.choiceFor(projectId);
  }

  /** The instance named `name`, each version's files encrypted or not as the version recorded at its creation. */
  async store(name: string): Promise<ObjectStore> {
    return encryptedPerResource(await this.storage.open(name), (key) => this.encryption.keyManagerOf(key));
  }

  /** The instance named `name` as it stores bytes (ciphertext for an encrypted version): for copies inside it of files in the clear. */
  raw(name: string): Promise<ObjectStore> {
    return this.storage.open(name);
  }

  /** The kit's fingerprint of the instance named `name`, compared with the one tracking gives for a run's storage. */
  fingerprintOf(name: string): Promise<string> {
    return instanceFingerprint(this.storage, name);
  }
}
