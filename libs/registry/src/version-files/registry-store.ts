import { Injectable } from '@nestjs/common';
import { DEFAULT_INSTANCE, encryptedPerResource, InjectPluginInstances, PluginInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { VersionEncryption } from './version-encryption';

/**
 * The storage instance the registry keeps its copies in: its `default` one, which tracking's runs
 * use until their project picks another. The registry's keys all start with `models/`, which no
 * tracking key does (tracking's start with an experiment id).
 */
export const REGISTRY_STORE = DEFAULT_INSTANCE;

/** The registry's store, each version's files encrypted or not as the version recorded at its creation. */
@Injectable()
export class RegistryStore {
  constructor(
    @InjectPluginInstances('storage') private readonly storage: PluginInstances<'storage'>,
    private readonly encryption: VersionEncryption,
  ) {}

  async store(): Promise<ObjectStore> {
    return encryptedPerResource(await this.storage.open(REGISTRY_STORE), (key) => this.encryption.keyManagerOf(key));
  }
}
