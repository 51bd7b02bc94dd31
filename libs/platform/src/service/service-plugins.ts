import type { PluginRegistry } from '../plugins';
import { StartupError } from './startup-error';
import type { ServiceDefinition } from './define-service';

/**
 * Refuses to start a service that needs a kind of plugin of which none is loaded, naming the
 * kind, what the service uses it for, and the setting that loads plugins. Optional kinds pass.
 */
export function checkPluginKinds(definition: ServiceDefinition, registry: PluginRegistry): void {
  const missing = Object.entries(definition.plugins ?? {}).filter(
    ([kind, use]) => use && !use.optional && registry.listPlugins(kind as keyof NonNullable<ServiceDefinition['plugins']>).length === 0,
  );
  if (missing.length === 0) return;
  const needs = missing.map(([kind, use]) => `a ${kind} plugin (${use?.purpose})`).join(' and ');
  throw new StartupError(`${definition.name} needs ${needs}, and this program has none: add the package of one to plugins (TRELLIS_PLUGINS)`);
}
