import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type KeyManager, type PluginInstanceByKind, type PluginKind, PLUGIN_KINDS } from '@trellis/plugin-sdk';
import type { Logger } from '../ops/logger';
import type { ReadinessCheck } from '../ops/ops-server';
import { guardInstance } from './backend-failures';
import { checkHealth } from './instance-health';
import { checkSecretReferences, resolveSecrets } from './instance-secrets';
import { PluginInstanceError } from './plugin-errors';
import type { PluginRegistry } from './plugin-registry';

/** The instance a project uses of each kind until it chooses another. */
export const DEFAULT_INSTANCE = 'default';

/** One instance as the config declares it: `<kind>.<name>: { plugin, config }`. */
export interface DeclaredInstance {
  plugin: string;
  config: unknown;
}

/** The config's instance sections, by kind. */
export type InstanceSections = Partial<Record<PluginKind, Readonly<Record<string, DeclaredInstance>>>>;

/** A configured instance that is running. */
export interface ConfiguredInstance<K extends PluginKind = PluginKind> {
  kind: K;
  name: string;
  plugin: string;
  /** The config as declared (secret fields hold references); never the resolved values. */
  declared: unknown;
  /** True for a default the kit made because the config declares none. */
  implicit: boolean;
  /** The instance; a backend failure of any call answers UNAVAILABLE `PLUGIN_BACKEND_FAILED`. */
  instance: PluginInstanceByKind[K];
}

/** What the process's configured instances need besides the registry. */
export interface ConfiguredInstancesOptions {
  /** The process's data directory: defaults live under it. */
  dataDir: string;
  /** The config's sections (`storage`, `compute`, `drift`, `runtime`, `kms`, `notifier`). */
  sections: InstanceSections;
  /** Adds a `/readyz` check; returns its removal. */
  addReadinessCheck?: (check: ReadinessCheck) => () => void;
  logger?: Logger;
}

/**
 * The instances the config declares (`<kind>.<name>` sections), shared by every service of the
 * process that uses the kind, plus `default` where the config declares none: storage-fs under
 * `<dataDir>/artifacts` for storage, kms-local with `<dataDir>/keys/kms-default.key` for kms, when
 * those plugins are built in. A kind's instances are all created when the first service that uses
 * it starts, before it listens: a bad config, a plugin of another kind, an unknown plugin, an
 * unresolvable secret or a `create()` that throws fails the start with a message that begins with
 * the config path (`storage.team-a: ...`). Each shows in `/readyz` as `plugin.<kind>.<name>`.
 */
export class ConfiguredInstances {
  private readonly starting = new Map<PluginKind, Promise<void>>();
  private readonly running = new Map<string, ConfiguredInstance>();
  private readonly removeChecks: Array<() => void> = [];

  constructor(
    private readonly registry: PluginRegistry,
    private readonly options: ConfiguredInstancesOptions,
  ) {}

  /** Creates the configured instances of `kind` once; later calls wait for the first. */
  start(kind: PluginKind): Promise<void> {
    let started = this.starting.get(kind);
    if (!started) {
      started = this.create(kind);
      this.starting.set(kind, started);
    }
    return started;
  }

  /** The names of the running instances of `kind`, declared order, `default` first when implicit. */
  names(kind: PluginKind): string[] {
    return [...this.running.values()].filter((entry) => entry.kind === kind).map((entry) => entry.name);
  }

  /** The running configured instance of `kind` named `name`, if any. */
  get<K extends PluginKind>(kind: K, name: string): ConfiguredInstance<K> | undefined {
    return this.running.get(`${kind}/${name}`) as ConfiguredInstance<K> | undefined;
  }

  /** Whether the config declares (or the kit defaults) an instance of `kind` named `name`, running or not. */
  declares(kind: PluginKind, name: string): boolean {
    return Object.hasOwn(this.options.sections[kind] ?? {}, name) || this.get(kind, name) !== undefined;
  }

  /**
   * The KMS that wraps secrets given through the API and unwraps `kms:` references: the `default`
   * kms instance, started on first need; undefined when there is none.
   */
  readonly secretsKms = async (): Promise<KeyManager | undefined> => {
    await this.start('kms');
    return this.get('kms', DEFAULT_INSTANCE)?.instance;
  };

  /** The kinds whose section declares instances, and the names declared. */
  declaredKinds(): Array<{ kind: PluginKind; names: string[] }> {
    return PLUGIN_KINDS.map((kind) => ({ kind, names: Object.keys(this.options.sections[kind] ?? {}) })).filter((entry) => entry.names.length > 0);
  }

  /** Removes the readiness checks; the registry closes the instances themselves. */
  close(): void {
    for (const remove of this.removeChecks.splice(0)) remove();
  }

  private async create(kind: PluginKind): Promise<void> {
    const declared = Object.entries(this.options.sections[kind] ?? {});
    const specs: Array<{ name: string; plugin: string; config: unknown; implicit: boolean }> = declared.map(([name, entry]) => ({ name, ...entry, implicit: false }));
    if (!declared.some(([name]) => name === DEFAULT_INSTANCE)) {
      const fallback = await this.defaultOf(kind);
      if (fallback) specs.unshift({ name: DEFAULT_INSTANCE, ...fallback, implicit: true });
    }
    for (const spec of specs) {
      const path = `${kind}.${spec.name}`;
      try {
        const plugin = this.registry.plugin(kind, spec.plugin);
        const owner = { kind, instance: spec.name, plugin: spec.plugin };
        let config = spec.config;
        if (plugin) {
          checkSecretReferences(plugin.configSchema, config, owner);
          // A KMS never unwraps its own secrets: a kms instance's secrets are env: or file: references.
          config = await resolveSecrets(plugin.configSchema, config, owner, kind === 'kms' ? async () => undefined : this.secretsKms);
        }
        const instance = await this.registry.createInstance(kind, { name: spec.name, plugin: spec.plugin, config });
        const entry: ConfiguredInstance = {
          kind,
          name: spec.name,
          plugin: spec.plugin,
          declared: spec.config,
          implicit: spec.implicit,
          instance: guardInstance({ kind, name: spec.name, plugin: spec.plugin }, instance),
        };
        this.running.set(`${kind}/${spec.name}`, entry);
        this.addReadiness(entry, instance);
      } catch (error) {
        throw new PluginInstanceError(`${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (specs.length) this.options.logger?.info({ kind, instances: specs.map((spec) => spec.name) }, `${kind} instances ready`);
  }

  private addReadiness(entry: ConfiguredInstance, instance: PluginInstanceByKind[PluginKind]): void {
    if (!this.options.addReadinessCheck) return;
    this.removeChecks.push(
      this.options.addReadinessCheck({
        name: `plugin.${entry.kind}.${entry.name}`,
        check: async () => {
          const health = await checkHealth(instance);
          return health.ok ? undefined : { degraded: `${entry.kind} instance "${entry.name}" (plugin ${entry.plugin}): ${health.message}` };
        },
      }),
    );
  }

  private async defaultOf(kind: PluginKind): Promise<DeclaredInstance | undefined> {
    if (kind === 'storage' && this.registry.plugin('storage', 'storage-fs')) {
      return { plugin: 'storage-fs', config: { root: join(this.options.dataDir, 'artifacts') } };
    }
    if (kind === 'kms' && this.registry.plugin('kms', 'kms-local')) {
      const masterKeyFile = resolve(this.options.dataDir, 'keys', `kms-${DEFAULT_INSTANCE}.key`);
      await writeKeyFileIfMissing(masterKeyFile);
      return { plugin: 'kms-local', config: { masterKeyFile } };
    }
    return undefined;
  }
}

/** Writes 32 random bytes to `path` (a kms-local master key), readable by this user only, unless the file exists. */
async function writeKeyFileIfMissing(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, randomBytes(32), { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
