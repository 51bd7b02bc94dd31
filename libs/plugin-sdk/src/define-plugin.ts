import type { z } from 'zod';
import { type ConfigIssue, PluginConfigError } from './errors';
import type { PluginContext } from './context';
import type { PluginInstanceByKind } from './contracts';
import type { PluginKind } from './kinds';
import { checkManifest, type PluginManifest } from './manifest';

/**
 * A plugin: its manifest, the schema of an instance's config, and the factory of instances. A plain
 * object; the host validates each instance's config with `configSchema` before calling `create`.
 */
export interface Plugin<K extends PluginKind = PluginKind, S extends z.ZodType = z.ZodType> {
  /** Kind, id and contract version. */
  readonly manifest: Readonly<PluginManifest<K>>;
  /** Validates (and may default or transform) an instance's config; written with the SDK's `z`. */
  readonly configSchema: S;
  /**
   * Makes one named instance from a validated config. May do I/O (connect, check the backend) and
   * should fail here, with a message a person can act on, rather than at the first call.
   */
  create(ctx: PluginContext, config: z.output<S>): PluginInstanceByKind[K] | Promise<PluginInstanceByKind[K]>;
}

/** Any plugin, whatever its kind and config. */
export type AnyPlugin = Plugin<PluginKind, z.ZodType>;

/**
 * Declares a plugin; a plugin package default-exports what it returns. Throws a `TypeError` at
 * once for a manifest this SDK would refuse to load, so a plugin's own tests catch it.
 *
 * @example
 * export default definePlugin({
 *   manifest: { kind: 'storage', id: 'storage-fs', apiVersion: 'v1' },
 *   configSchema: z.object({ root: z.string() }),
 *   create: (ctx, config) => new FsObjectStore(ctx, config.root),
 * });
 */
export function definePlugin<K extends PluginKind, S extends z.ZodType>(plugin: Plugin<K, S>): Plugin<K, S> {
  const problem = checkManifest(plugin.manifest);
  if (problem) throw new TypeError(`definePlugin: ${problem.message}`);
  if (!isSchema(plugin.configSchema)) throw new TypeError(`definePlugin: plugin ${plugin.manifest.id} has no configSchema; pass a schema made with z`);
  if (typeof plugin.create !== 'function') throw new TypeError(`definePlugin: plugin ${plugin.manifest.id} has no create(ctx, config) function`);
  const { kind, id, apiVersion } = plugin.manifest;
  return Object.freeze({
    manifest: Object.freeze({ kind, id, apiVersion }),
    configSchema: plugin.configSchema,
    create: plugin.create,
  });
}

/**
 * Whether `value` has the shape `definePlugin` returns (manifest, configSchema, create), also when
 * another copy of the SDK made it. Says nothing about whether the manifest is acceptable.
 */
export function isPlugin(value: unknown): value is AnyPlugin {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof AnyPlugin, unknown>>;
  return typeof candidate.manifest === 'object' && candidate.manifest !== null && typeof candidate.create === 'function' && isSchema(candidate.configSchema);
}

function isSchema(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

/**
 * `config` checked against the plugin's `configSchema`, as the host checks an instance's config
 * before `create()`: the parsed value, or `PluginConfigError` naming the instance and each failing
 * path.
 */
export function parsePluginConfig<K extends PluginKind, S extends z.ZodType>(plugin: Plugin<K, S>, instanceName: string, config: unknown): z.output<S> {
  const parsed = plugin.configSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  const { kind, id } = plugin.manifest;
  throw new PluginConfigError({ instance: instanceName, kind, plugin: id, issues: parsed.error.issues.map(toConfigIssue) });
}

function toConfigIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = issue.path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
  return { path, message: issue.message };
}
