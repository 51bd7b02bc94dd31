import { Module } from '@nestjs/common';
import type { PluginKind } from '@trellis/plugin-sdk';
import { PluginInstanceServiceDesc } from '@trellis/proto';
import type { DataSource } from 'typeorm';
import type { Logger } from '../ops/logger';
import { PluginInstanceAdminModule } from '../plugins/plugin-instance.grpc';
import { CreatePluginInstanceTables1767850000000, PluginInstanceRepository, PluginInstances, type PluginRegistry, ServicePluginInstances } from '../plugins';
import type { ServiceDefinition } from './define-service';
import type { PlatformRuntime } from './platform-runtime';
import { StartupError } from './startup-error';

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

/** The kinds a service declares, in declaration order. */
function kindsOf(definition: ServiceDefinition): PluginKind[] {
  return Object.entries(definition.plugins ?? {})
    .filter(([, use]) => use)
    .map(([kind]) => kind as PluginKind);
}

/**
 * The definition as the kit serves it: a service that declares plugins also answers
 * `trellis.plugins.v1.PluginInstanceService` for its own instances.
 */
export function withPluginAdmin(definition: ServiceDefinition): ServiceDefinition {
  if (kindsOf(definition).length === 0) return definition;
  @Module({ imports: [definition.module, PluginInstanceAdminModule] })
  class ServiceWithPluginAdminModule {}
  return { ...definition, module: ServiceWithPluginAdminModule, grpcServices: [...definition.grpcServices, PluginInstanceServiceDesc] };
}

/** The service's migrations, plus the kit's plugin instance tables when it declares plugins. */
export function withPluginTables(definition: ServiceDefinition): ServiceDefinition['migrations'] {
  const own = definition.migrations ?? [];
  if (kindsOf(definition).length === 0) return own;
  return [...(Array.isArray(own) ? own : Object.values(own)), CreatePluginInstanceTables1767850000000] as ServiceDefinition['migrations'];
}

/** One `PluginInstances` per kind the service declares, over its database. */
export function servicePluginInstances(definition: ServiceDefinition, runtime: PlatformRuntime, dataSource: DataSource, logger: Logger): ServicePluginInstances {
  const records = new PluginInstanceRepository(dataSource);
  const byKind = new Map<PluginKind, PluginInstances<PluginKind>>(
    kindsOf(definition).map((kind) => [
      kind,
      new PluginInstances({
        kind,
        service: definition.name,
        registry: runtime.plugins,
        configured: runtime.instances,
        defaults: definition.plugins?.[kind]?.defaults,
        records,
        addReadinessCheck: (check) => runtime.ops.addReadinessCheck(check),
        logger,
      }),
    ]),
  );
  return new ServicePluginInstances(definition.name, byKind);
}

/**
 * Creates the service's plugin instances before it listens; a configured instance that cannot be
 * made stops the start with a StartupError that begins with its config path (`storage.team-a: ...`).
 */
export async function startPluginInstances(instances: ServicePluginInstances): Promise<void> {
  try {
    await instances.start();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'PLUGIN_INSTANCE' || code === 'PLUGIN_CONFIG') throw new StartupError((error as Error).message, { cause: error });
    throw error;
  }
}

/**
 * Warns about plugins loaded for kinds no service of the process uses, and config sections of such
 * kinds, naming them: they are accepted (another process of the deployment may use them) but do
 * nothing here.
 */
export function warnUnusedPluginKinds(services: readonly ServiceDefinition[], runtime: PlatformRuntime): void {
  const used = new Set(services.flatMap(kindsOf));
  const loaded = new Map<PluginKind, string[]>();
  for (const plugin of runtime.plugins.listPlugins()) {
    const { kind, id } = plugin.manifest;
    if (!used.has(kind)) loaded.set(kind, [...(loaded.get(kind) ?? []), id]);
  }
  for (const [kind, ids] of loaded) {
    runtime.logger.warn({ kind, plugins: ids }, `plugins ${ids.join(', ')} are ${kind} plugins, and no service of this process uses ${kind} plugins; they stay unused`);
  }
  for (const { kind, names } of runtime.instances.declaredKinds()) {
    if (used.has(kind)) continue;
    runtime.logger.warn({ kind, instances: names }, `the config declares ${kind} instances ${names.join(', ')}, and no service of this process uses ${kind} plugins; they are not created`);
  }
}
