/**
 * @trellis/plugin-sdk: the contracts Trellis plugins fulfil and what hosts use to load them.
 * A plugin imports this package and nothing else of Trellis; it writes its config schema with the
 * `z` exported here, so it never depends on zod itself.
 */
/** zod 4, for `configSchema`: plugins write `z.object({...})` with this export and never import zod. */
export { z } from 'zod';

export * from './contracts';
export { consoleLogger, noopLogger, type PluginContext, type PluginLogger } from './context';
export { type AnyPlugin, definePlugin, isPlugin, type Plugin } from './define-plugin';
export * from './errors';
export { type ApiVersionOf, isPluginKind, isSupportedApiVersion, PLUGIN_KINDS, type PluginKind, SUPPORTED_API_VERSIONS } from './kinds';
export { type ImportedPlugin, type ImportPluginOptions, importPluginPackage } from './loader';
export { checkManifest, type ManifestProblem, PLUGIN_ID_PATTERN, type PluginManifest } from './manifest';
export { INSTANCE_NAME_PATTERN, type InstanceRef, type InstanceSpec, PluginRegistry, type PluginRegistryOptions } from './registry';
export { iterateObjects } from './storage/iterate-objects';
export { compareKeys, validateObjectKey } from './storage/object-key';
export {
  encryptingObjectStore,
  type EncryptingObjectStore,
  type EncryptingObjectStoreOptions,
  type RewrapReport,
} from './storage/encrypting-storage';
export { KEY_RECORDS_PREFIX } from './storage/envelope/key-record';
