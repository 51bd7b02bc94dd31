import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type AnyPlugin,
  checkManifest,
  type ConfigIssue,
  isPlugin,
  noopLogger,
  parsePluginConfig,
  PluginConfigError,
  type PluginContext,
  type PluginInstanceByKind,
  type PluginKind,
  type PluginLogger,
  REQUIRED_MEMBERS,
} from '@trellis/plugin-sdk';
import { formatPath, unknownKeys } from './config-schema-walk';
import { PluginInstanceError, PluginLoadError } from './plugin-errors';

/** Instance names: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
export const INSTANCE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** One named instance to create, as the owning service holds it. */
export interface InstanceSpec {
  /** Unique within the kind (`default`, `team-a-s3`); see `INSTANCE_NAME_PATTERN`. */
  name: string;
  /** The id of a loaded plugin of the kind (`storage-fs`). */
  plugin: string;
  /** Checked against the plugin's `configSchema`; a key no object of the schema declares is refused. */
  config: unknown;
  /**
   * The service that owns the instance when it is one service's own (created through its API):
   * its name is then unique per kind within that service, and its data directory is
   * `<dataDir>/<kind>/<owner>/<name>`. Absent for the process's configured instances.
   */
  owner?: string;
}

/** Which instance a logger is for. */
export interface InstanceRef {
  kind: PluginKind;
  plugin: string;
  name: string;
  /** The owning service of a service's own instance (see `InstanceSpec.owner`). */
  owner?: string;
}

/** How the registry makes each instance's context. */
export interface PluginRegistryOptions {
  /** Parent of the instances' data directories (`<dataDir>/<kind>/<name>`). Default: `.trellis/plugins` in the working directory. */
  dataDir?: string;
  /** The logger of each instance (a host passes a child of its own logger). Default: no logging. */
  loggerFor?: (instance: InstanceRef) => PluginLogger;
}

interface LoadedPlugin {
  plugin: AnyPlugin;
  source: string;
}

interface RunningInstance {
  ref: InstanceRef;
  instance: PluginInstanceByKind[PluginKind];
  controller: AbortController;
}

/**
 * Holds the loaded plugins by kind and id, and the named instances made from them. A host loads
 * the configured packages at start (failing loudly on any refusal), creates instances as its
 * configuration or database names them, and closes the registry at shutdown.
 */
export class PluginRegistry {
  private readonly plugins = new Map<string, LoadedPlugin>();
  private readonly running = new Map<string, RunningInstance>();
  private readonly starting = new Set<string>();
  private readonly dataDir: string;
  private readonly loggerFor: (instance: InstanceRef) => PluginLogger;
  private closed = false;

  constructor(options: PluginRegistryOptions = {}) {
    this.dataDir = resolve(options.dataDir ?? join('.trellis', 'plugins'));
    this.loggerFor = options.loggerFor ?? (() => noopLogger);
  }

  /**
   * Registers a plugin already in hand (tests, plugins built into a host). `source` names where it
   * came from in error messages. Throws `PluginLoadError` for a bad manifest or an id already taken
   * in its kind, naming both sources.
   */
  register(plugin: AnyPlugin, source = `plugin registered in code`): void {
    if (!isPlugin(plugin)) throw new PluginLoadError(source, 'not-a-plugin', 'it is not a plugin; make it with definePlugin()');
    const problem = checkManifest(plugin.manifest);
    if (problem) throw new PluginLoadError(source, problem.failure, problem.message);
    const { kind, id } = plugin.manifest;
    const existing = this.plugins.get(key(kind, id));
    if (existing) {
      const where = existing.source === source ? `${source} is listed twice` : `both ${existing.source} and ${source} provide it`;
      throw new PluginLoadError(source, 'duplicate-id', `${kind} plugin id "${id}" is already loaded: ${where}; list only one of them`);
    }
    this.plugins.set(key(kind, id), { plugin, source });
  }

  /** The loaded plugin of `kind` with `id`, if any. */
  plugin(kind: PluginKind, id: string): AnyPlugin | undefined {
    return this.plugins.get(key(kind, id))?.plugin;
  }

  /** The loaded plugins, of one kind or all, in load order. */
  listPlugins(kind?: PluginKind): AnyPlugin[] {
    return [...this.plugins.values()].map((p) => p.plugin).filter((p) => kind === undefined || p.manifest.kind === kind);
  }

  /**
   * Creates a named instance: checks the name, finds the plugin, validates `config` with its
   * `configSchema`, makes the instance's data directory and calls `create()`. Throws
   * `PluginConfigError` naming the instance, plugin and each failing config path, or
   * `PluginInstanceError` for an unknown plugin, a taken or malformed name, or a failed `create()`.
   */
  async createInstance<K extends PluginKind>(kind: K, spec: InstanceSpec): Promise<PluginInstanceByKind[K]> {
    const { name, plugin: pluginId, owner } = spec;
    if (this.closed) throw new PluginInstanceError(`cannot create ${kind} instance "${name}": the plugin registry is closed`);
    if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
      throw new PluginInstanceError(
        `${kind} instance name ${JSON.stringify(name)} is not allowed; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters`,
      );
    }
    const id = key(kind, name, owner);
    const taken = this.running.get(id);
    if (taken || this.starting.has(id)) {
      const by = taken ? ` (plugin ${taken.ref.plugin})` : ' (being created)';
      throw new PluginInstanceError(`a ${kind} instance named "${name}" already exists${by}; instance names are unique per kind`);
    }
    const plugin = this.plugin(kind, pluginId);
    if (!plugin) {
      const known = this.listPlugins(kind).map((p) => p.manifest.id);
      const other = this.listPlugins().find((p) => p.manifest.id === pluginId);
      if (other) {
        throw new PluginInstanceError(
          `${kind} instance "${name}" uses plugin "${pluginId}", which is a ${other.manifest.kind} plugin, not a ${kind} plugin; loaded ${kind} plugins: ${known.length ? known.join(', ') : 'none'}`,
        );
      }
      throw new PluginInstanceError(
        `${kind} instance "${name}" uses plugin "${pluginId}", which is not loaded; loaded ${kind} plugins: ${known.length ? known.join(', ') : 'none'}. Add its package to the plugin list.`,
      );
    }
    const config = parseStrictly(plugin, name, spec.config);

    this.starting.add(id);
    const ref: InstanceRef = owner === undefined ? { kind, plugin: pluginId, name } : { kind, plugin: pluginId, name, owner };
    const controller = new AbortController();
    try {
      const dataDir = owner === undefined ? join(this.dataDir, kind, name) : join(this.dataDir, kind, owner, name);
      await mkdir(dataDir, { recursive: true });
      const ctx: PluginContext = { instanceName: name, logger: this.loggerFor(ref), dataDir, signal: controller.signal };
      let instance: PluginInstanceByKind[PluginKind];
      try {
        instance = await plugin.create(ctx, config);
      } catch (err) {
        throw new PluginInstanceError(`${kind} instance "${name}" (plugin ${pluginId}) failed to start: ${(err as Error).message}`, { cause: err });
      }
      const missing = missingMembers(kind, instance);
      if (missing.length) {
        await closeQuietly(instance);
        throw new PluginInstanceError(
          `${kind} instance "${name}": plugin ${pluginId} returned an object without ${missing.join(', ')} from create(); it does not fulfil the ${kind} contract`,
        );
      }
      this.running.set(id, { ref, instance, controller });
      return instance as PluginInstanceByKind[K];
    } catch (err) {
      controller.abort();
      throw err;
    } finally {
      this.starting.delete(id);
    }
  }

  /** The running instance of `kind` named `name` (of `owner`); throws `PluginInstanceError` listing the names there are when none. */
  getInstance<K extends PluginKind>(kind: K, name: string, owner?: string): PluginInstanceByKind[K] {
    const entry = this.running.get(key(kind, name, owner));
    if (!entry) {
      const names = this.instanceNames(kind);
      throw new PluginInstanceError(`no ${kind} instance named "${name}"; ${kind} instances: ${names.length ? names.join(', ') : 'none'}`);
    }
    return entry.instance as PluginInstanceByKind[K];
  }

  /** Names of the running instances of `kind` (those of `owner`, or the process's when absent), in creation order. */
  instanceNames(kind: PluginKind, owner?: string): string[] {
    return [...this.running.values()].filter((e) => e.ref.kind === kind && e.ref.owner === owner).map((e) => e.ref.name);
  }

  /** Stops one instance: aborts its signal, then calls its `close()`. Closing an unknown name does nothing. */
  async closeInstance(kind: PluginKind, name: string, owner?: string): Promise<void> {
    const entry = this.running.get(key(kind, name, owner));
    if (!entry) return;
    this.running.delete(key(kind, name, owner));
    entry.controller.abort();
    await entry.instance.close?.();
  }

  /**
   * Stops every instance, newest first, and refuses new ones. Every instance is closed even when
   * some fail; the failures are then thrown together as an `AggregateError`.
   */
  async close(): Promise<void> {
    this.closed = true;
    const errors: unknown[] = [];
    for (const entry of [...this.running.values()].reverse()) {
      try {
        await this.closeInstance(entry.ref.kind, entry.ref.name, entry.ref.owner);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, `${errors.length} plugin instance(s) failed to close`);
  }
}

function key(kind: string, name: string, owner?: string): string {
  return owner === undefined ? `${kind}/${name}` : `${kind}/${owner}/${name}`;
}

/**
 * `config` parsed by the plugin's schema, refusing keys that no object of the schema declares,
 * which zod would otherwise drop in silence (a misspelt key would quietly fall back to a default).
 */
function parseStrictly(plugin: AnyPlugin, instanceName: string, config: unknown): unknown {
  const unknown = unknownKeys(plugin.configSchema, config);
  let parsed: unknown;
  let issues: ConfigIssue[] = [];
  try {
    parsed = parsePluginConfig(plugin, instanceName, config);
  } catch (error) {
    if (!(error instanceof PluginConfigError)) throw error;
    // Unknown keys are reported below, one per key with its path; zod's own issue names them all at the object.
    issues = error.issues.filter((issue) => !/^Unrecognized keys?:/.test(issue.message));
  }
  const extra = unknown.map((path) => ({ path: formatPath(path), message: 'unknown key; the plugin does not take it' }));
  if (extra.length || issues.length) {
    const { kind, id } = plugin.manifest;
    throw new PluginConfigError({ instance: instanceName, kind, plugin: id, issues: [...extra, ...issues] });
  }
  return parsed;
}

function missingMembers(kind: PluginKind, instance: unknown): string[] {
  if (typeof instance !== 'object' || instance === null) return ['anything (it returned no object)'];
  return REQUIRED_MEMBERS[kind].filter((member) => !(member in instance));
}

async function closeQuietly(instance: unknown): Promise<void> {
  try {
    await (instance as { close?: () => unknown }).close?.();
  } catch {
    // The instance is refused already; a failing close() adds nothing the caller can act on.
  }
}
