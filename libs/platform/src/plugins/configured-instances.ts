import { type KeyManager, type PluginInstanceByKind, type PluginKind, PLUGIN_KINDS } from '@trellis/plugin-sdk';
import type { Logger } from '../ops/logger';
import type { ReadinessCheck } from '../ops/ops-server';
import { guardInstance } from './backend-failures';
import { type DefaultInstance, KIT_DEFAULTS } from './default-instances';
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
  /** The service whose own default this is (see {@link ServiceDefaults}); absent for the process's instances. */
  owner?: string;
  /** The instance; a backend failure of any call answers UNAVAILABLE `PLUGIN_BACKEND_FAILED`. */
  instance: PluginInstanceByKind[K];
}

/**
 * Instances one service declares for its own use, by name (`defineService({ plugins: { kms: {
 * defaults } } })`): made for it alone unless the config declares the name, whose instance it then
 * uses like any other service of the process.
 */
export interface ServiceDefaults {
  service: string;
  defaults: Readonly<Record<string, DefaultInstance>>;
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
 * process that uses the kind, plus `default` where the config declares none (the kit's
 * {@link KIT_DEFAULTS}: storage-fs under `<dataDir>/artifacts`, kms-local with
 * `<dataDir>/keys/kms-default.key`, when those plugins are built in), plus each service's own
 * defaults ({@link ServiceDefaults}). A kind's instances are all created when the first service that
 * uses it starts, a service's own defaults when it starts, before it listens: a bad config, a plugin
 * of another kind, an unknown plugin, an unresolvable secret or a `create()` that throws fails the
 * start with a message that begins with the config path (`storage.team-a: ...`). Each shows in
 * `/readyz` as `plugin.<kind>.<name>` (a service's own as `<service>.plugin.<kind>.<name>`).
 */
export class ConfiguredInstances {
  /** The creation of each kind's shared instances (by kind), and of each service's own default (by `<kind>/<service>/<name>`). */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly running = new Map<string, ConfiguredInstance>();
  private readonly removeChecks: Array<() => void> = [];

  constructor(
    private readonly registry: PluginRegistry,
    private readonly options: ConfiguredInstancesOptions,
  ) {}

  /**
   * Creates the configured instances of `kind` once (later calls wait for the first), then the
   * service's own defaults of the kind, if given, that the config does not declare and whose plugin
   * is in the program, each once.
   */
  async start(kind: PluginKind, own?: ServiceDefaults): Promise<void> {
    await this.once(kind, () => this.create(kind));
    for (const [name, instance] of Object.entries(own?.defaults ?? {})) {
      if (Object.hasOwn(this.options.sections[kind] ?? {}, name) || !this.registry.plugin(kind, instance.plugin)) continue;
      await this.once(entryKey(kind, name, own?.service), () => this.createOne(kind, { name, plugin: instance.plugin, config: instance.config(this.options.dataDir), implicit: true }, own?.service));
    }
  }

  /** The names of the running instances of `kind` that `service` uses, declared order, `default` first when implicit, then its own. */
  names(kind: PluginKind, service?: string): string[] {
    return [...this.running.values()].filter((entry) => entry.kind === kind && (entry.owner === undefined || entry.owner === service)).map((entry) => entry.name);
  }

  /** The running configured instance of `kind` named `name` that `service` uses, if any. */
  get<K extends PluginKind>(kind: K, name: string, service?: string): ConfiguredInstance<K> | undefined {
    const found = this.running.get(entryKey(kind, name)) ?? (service === undefined ? undefined : this.running.get(entryKey(kind, name, service)));
    return found as ConfiguredInstance<K> | undefined;
  }

  /** Whether the config declares (or the kit defaults, for `service` too) an instance of `kind` named `name`, running or not. */
  declares(kind: PluginKind, name: string, service?: string): boolean {
    return Object.hasOwn(this.options.sections[kind] ?? {}, name) || this.get(kind, name, service) !== undefined;
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

  private once(key: string, create: () => Promise<void>): Promise<void> {
    let started = this.starting.get(key);
    if (!started) {
      started = create();
      this.starting.set(key, started);
    }
    return started;
  }

  private async create(kind: PluginKind): Promise<void> {
    const declared = Object.entries(this.options.sections[kind] ?? {});
    const specs: InstanceToCreate[] = declared.map(([name, entry]) => ({ name, ...entry, implicit: false }));
    const fallback = KIT_DEFAULTS[kind];
    if (fallback && !declared.some(([name]) => name === DEFAULT_INSTANCE) && this.registry.plugin(kind, fallback.plugin)) {
      specs.unshift({ name: DEFAULT_INSTANCE, plugin: fallback.plugin, config: fallback.config(this.options.dataDir), implicit: true });
    }
    for (const spec of specs) await this.createOne(kind, spec);
    if (specs.length) this.options.logger?.info({ kind, instances: specs.map((spec) => spec.name) }, `${kind} instances ready`);
  }

  /** Creates one instance (of `owner` alone when given); a failure names its config path. */
  private async createOne(kind: PluginKind, spec: InstanceToCreate, owner?: string): Promise<void> {
    try {
      const plugin = this.registry.plugin(kind, spec.plugin);
      const identity = { kind, instance: spec.name, plugin: spec.plugin };
      let config = await spec.config;
      const declared = config;
      if (plugin) {
        checkSecretReferences(plugin.configSchema, config, identity);
        // A KMS never unwraps its own secrets: a kms instance's secrets are env: or file: references.
        config = await resolveSecrets(plugin.configSchema, config, identity, kind === 'kms' ? async () => undefined : this.secretsKms);
      }
      const instance = await this.registry.createInstance(kind, { name: spec.name, plugin: spec.plugin, config, ...(owner === undefined ? {} : { owner }) });
      const entry: ConfiguredInstance = {
        kind,
        name: spec.name,
        plugin: spec.plugin,
        declared,
        implicit: spec.implicit,
        ...(owner === undefined ? {} : { owner }),
        instance: guardInstance({ kind, name: spec.name, plugin: spec.plugin }, instance),
      };
      this.running.set(entryKey(kind, spec.name, owner), entry);
      this.addReadiness(entry, instance);
    } catch (error) {
      throw new PluginInstanceError(`${kind}.${spec.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  private addReadiness(entry: ConfiguredInstance, instance: PluginInstanceByKind[PluginKind]): void {
    if (!this.options.addReadinessCheck) return;
    this.removeChecks.push(
      this.options.addReadinessCheck({
        name: `${entry.owner === undefined ? '' : `${entry.owner}.`}plugin.${entry.kind}.${entry.name}`,
        check: async () => {
          const health = await checkHealth(instance);
          return health.ok ? undefined : { degraded: `${entry.kind} instance "${entry.name}" (plugin ${entry.plugin}): ${health.message}` };
        },
      }),
    );
  }
}

/** An instance to create: declared in the config, or a default whose config may still be in the making. */
interface InstanceToCreate {
  name: string;
  plugin: string;
  config: unknown;
  implicit: boolean;
}

/** Where a running instance is kept: by kind and name, and by its owning service for a service's own default. */
function entryKey(kind: PluginKind, name: string, owner?: string): string {
  return owner === undefined ? `${kind}/${name}` : `${kind}/${owner}/${name}`;
}
