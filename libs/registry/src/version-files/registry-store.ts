import { Injectable } from '@nestjs/common';
import { DEFAULT_INSTANCE, InjectPluginInstances, PluginInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';

/**
 * The storage instance the registry keeps its copies in: its `default` one, which tracking's runs
 * use until their project picks another. The registry's keys all start with `models/`, which no
 * tracking key does (tracking's start with an experiment id).
 */
export const REGISTRY_STORE = DEFAULT_INSTANCE;

@Injectable()
export class RegistryStore {
  constructor(@InjectPluginInstances('storage') private readonly storage: PluginInstances<'storage'>) {}

  store(): Promise<ObjectStore> {
    return this.storage.open(REGISTRY_STORE);
  }
}
