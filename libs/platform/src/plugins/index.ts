export { type ImportedPlugin, type ImportPluginOptions, importPluginPackage } from './plugin-loader';
export { findPluginPackages, type LoadedPluginPackage, loadPluginPackages, type PluginOrigin, type PluginPackagesOptions } from './plugins-dir';
export { PluginInstanceError, PluginLoadError } from './plugin-errors';
export { INSTANCE_NAME_PATTERN, type InstanceRef, type InstanceSpec, PluginRegistry, type PluginRegistryOptions } from './plugin-registry';
