import { Inject } from '@nestjs/common';
import { type InstanceHealth, PluginConfigError, type PluginInstanceByKind, type PluginKind } from '@trellis/plugin-sdk';
import { resourceName } from '../audit/resource-name';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors';
import type { Logger } from '../ops/logger';
import type { ReadinessCheck } from '../ops/ops-server';
import { guardInstance, PLUGIN_BACKEND_FAILED } from './backend-failures';
import { type ConfiguredInstances, DEFAULT_INSTANCE } from './configured-instances';
import type { DefaultInstance } from './default-instances';
import { checkHealth } from './instance-health';
import { redactSecrets, resolveSecrets, sealSecrets } from './instance-secrets';
import type { PluginInstanceRepository, StoredInstance } from './plugin-instance.repository';
import { INSTANCE_NAME_PATTERN, type PluginRegistry } from './plugin-registry';

/** An instance as the admin API shows it: never a secret's value. */
export interface InstanceInfo {
  kind: PluginKind;
  name: string;
  /** Its plugin's id. */
  plugin: string;
  /** `config`: declared in the config file (read-only through the API); `api`: created through the API. */
  source: 'config' | 'api';
  /** The config with secrets redacted: `env:`/`file:` references as they are, wrapped values as a fixed marker. */
  config: unknown;
  /** When and by whom an API instance was created. */
  createTime?: Date;
  creator?: string;
}

/** A new instance, as a caller of the admin API gives it. */
export interface NewInstance {
  name: string;
  plugin: string;
  /** Checked against the plugin's config schema; plain secret values are wrapped by the KMS before they are stored. */
  config: unknown;
}

/** What one service's instances of one kind need. */
export interface PluginInstancesOptions<K extends PluginKind> {
  kind: K;
  /** The owning service. */
  service: string;
  registry: PluginRegistry;
  configured: ConfiguredInstances;
  /** Instances the service declares for its own use, by name, made unless the config declares the name. */
  defaults?: Readonly<Record<string, DefaultInstance>>;
  /** The service's database: API instances and projects' choices. */
  records: PluginInstanceRepository;
  /** Adds a `/readyz` check; returns its removal. */
  addReadinessCheck?: (check: ReadinessCheck) => () => void;
  logger?: Logger;
}

type OwnInstance<K extends PluginKind> = { stored: StoredInstance; instance: PluginInstanceByKind[K]; raw: PluginInstanceByKind[K] } | { stored: StoredInstance; failed: string };

/** How many projects an error that refuses a delete names. */
const PROJECTS_NAMED = 5;

/** The injection token of a service's `PluginInstances` of `kind`. */
export function pluginInstancesToken(kind: PluginKind): symbol {
  return Symbol.for(`trellis:plugin-instances:${kind}`);
}

/**
 * Injects the service's `PluginInstances` of `kind` (one it declares in `defineService({ plugins })`):
 * `constructor(@InjectPluginInstances('storage') storage: PluginInstances<'storage'>)`.
 */
export function InjectPluginInstances(kind: PluginKind): ParameterDecorator {
  return Inject(pluginInstancesToken(kind));
}

/**
 * The instances of one plugin kind that one service uses: those the config declares (shared by the
 * process, see `ConfiguredInstances`) and those created through the service's admin API, kept in
 * its database and created again at each start. Names are unique per kind within the service; a
 * name the config declares cannot be created or deleted through the API. Each project uses
 * `default` until it chooses another instance; choosing checks the instance's health first.
 *
 * Every instance it hands out answers a backend failure with UNAVAILABLE `PLUGIN_BACKEND_FAILED`
 * (naming the kind, instance and plugin) while the contract's own errors pass as they are. Each
 * API instance shows in `/readyz` as `<service>.plugin.<kind>.<name>`.
 */
export class PluginInstances<K extends PluginKind> {
  /** The kind of plugin these instances are. */
  readonly kind: K;
  /** The service that owns them. */
  readonly service: string;
  private readonly own = new Map<string, OwnInstance<K>>();
  private readonly removeChecks = new Map<string, () => void>();
  private readonly opening = new Map<string, Promise<PluginInstanceByKind[K]>>();

  constructor(private readonly options: PluginInstancesOptions<K>) {
    this.kind = options.kind;
    this.service = options.service;
  }

  /**
   * Creates the configured instances of the kind (if no other service of the process did) and the
   * service's stored ones. A configured instance that fails stops the start (the error names its
   * config path); a stored one that fails is kept as failing, shows degraded in `/readyz`, and
   * answers UNAVAILABLE until the service restarts with its backend back.
   */
  async start(): Promise<void> {
    await this.options.configured.start(this.kind, { service: this.service, defaults: this.options.defaults ?? {} });
    for (const stored of await this.options.records.list(this.kind)) {
      if (this.options.configured.declares(this.kind, stored.name, this.service)) {
        this.options.logger?.warn({ kind: this.kind, instance: stored.name }, `the config now declares ${this.kind} instance "${stored.name}", which the API created before; the config's wins`);
        continue;
      }
      try {
        await this.createOwn(stored);
      } catch (error) {
        const failed = (error as Error).message;
        this.own.set(stored.name, { stored, failed });
        this.addReadiness(stored.name, async () => ({ ok: false, message: failed }));
        this.options.logger?.warn({ kind: this.kind, instance: stored.name, plugin: stored.plugin, reason: failed }, `${this.kind} instance "${stored.name}" could not be created; calls that use it answer UNAVAILABLE`);
      }
    }
  }

  /** The names of every instance of the kind the service has, configured first. */
  names(): string[] {
    return [...new Set([...this.options.configured.names(this.kind, this.service), ...[...this.own.keys()].sort()])];
  }

  /** Whether the service has an instance of the kind named `name`. */
  has(name: string): boolean {
    return this.options.configured.get(this.kind, name, this.service) !== undefined || this.own.has(name);
  }

  /**
   * The instance named `name`: NOT_FOUND `PLUGIN_INSTANCE_NOT_FOUND` naming the instances there are
   * when none is; UNAVAILABLE `PLUGIN_BACKEND_FAILED` for an API instance that could not be created.
   * An instance another replica of the service created since this one started is created here on
   * first use.
   */
  async open(name: string): Promise<PluginInstanceByKind[K]> {
    const configured = this.options.configured.get(this.kind, name, this.service);
    if (configured) return configured.instance;
    const own = this.own.get(name);
    if (own && 'instance' in own) return own.instance;
    if (own) {
      throw new UnavailableError(`${this.kind} instance "${name}" (plugin ${own.stored.plugin}) is not available: ${own.failed}`, {
        reason: PLUGIN_BACKEND_FAILED,
        resource: this.resourceOf(name),
        metadata: { kind: this.kind, instance: name, plugin: own.stored.plugin },
      });
    }
    let opening = this.opening.get(name);
    if (!opening) {
      opening = this.openStored(name).finally(() => this.opening.delete(name));
      this.opening.set(name, opening);
    }
    return opening;
  }

  /** The instance of the kind the project uses: the one it chose, else `default`. */
  async choiceFor(projectId: string): Promise<string> {
    return (await this.options.records.choiceOf(projectId, this.kind)) ?? DEFAULT_INSTANCE;
  }

  /** The project's instance of the kind, by name and opened. */
  async forProject(projectId: string): Promise<{ name: string; instance: PluginInstanceByKind[K] }> {
    const name = await this.choiceFor(projectId);
    return { name, instance: await this.open(name) };
  }

  /**
   * Makes `name` the project's instance of the kind, after checking that it exists (NOT_FOUND
   * `PLUGIN_INSTANCE_NOT_FOUND`) and is healthy now (FAILED_PRECONDITION `PLUGIN_INSTANCE_UNHEALTHY`
   * with the plugin's message).
   */
  async choose(projectId: string, name: string): Promise<void> {
    const health = await this.health(name);
    if (!health.ok) {
      throw new FailedPreconditionError(`${this.kind} instance "${name}" is not healthy, so no project can choose it now: ${health.message}`, {
        reason: 'PLUGIN_INSTANCE_UNHEALTHY',
        resource: this.resourceOf(name),
      });
    }
    await this.options.records.setChoice(projectId, this.kind, name);
  }

  /** What the instance's `health()` says now; NOT_FOUND for a name there is none of. */
  async health(name: string): Promise<InstanceHealth> {
    const own = this.own.get(name);
    if (own && 'failed' in own) return { ok: false, message: own.failed };
    const configured = this.options.configured.get(this.kind, name, this.service);
    if (configured) return checkHealth(configured.instance);
    return checkHealth(await this.open(name));
  }

  /** Every instance of the kind, configured first, then the API's by name; configs redacted. */
  async list(): Promise<InstanceInfo[]> {
    const configured = this.options.configured.names(this.kind, this.service).map((name) => this.configuredInfo(name));
    const stored = (await this.options.records.list(this.kind)).filter((entry) => !this.options.configured.declares(this.kind, entry.name, this.service));
    return [...configured, ...stored.map((entry) => this.storedInfo(entry))];
  }

  /** One instance, config redacted; NOT_FOUND `PLUGIN_INSTANCE_NOT_FOUND` when there is none. */
  async describe(name: string): Promise<InstanceInfo> {
    if (this.options.configured.get(this.kind, name, this.service)) return this.configuredInfo(name);
    const stored = this.own.get(name)?.stored ?? (await this.options.records.find(this.kind, name));
    if (!stored) throw this.notFound(name);
    return this.storedInfo(stored);
  }

  /**
   * Creates an instance through the API: checks the name (INVALID_ARGUMENT on `name`; ALREADY_EXISTS
   * `PLUGIN_INSTANCE_EXISTS`; FAILED_PRECONDITION `PLUGIN_INSTANCE_CONFIGURED` for a name the config
   * declares), the plugin (INVALID_ARGUMENT `PLUGIN_NOT_LOADED` on `plugin`) and the config
   * (INVALID_ARGUMENT `PLUGIN_CONFIG_INVALID`, one violation per path, `config.<path>`); wraps
   * plain secrets with the KMS (FAILED_PRECONDITION `PLUGIN_SECRET_UNWRAPPABLE` without one);
   * creates it and checks its health (FAILED_PRECONDITION `PLUGIN_INSTANCE_FAILED` with the
   * plugin's message); then stores it.
   */
  async create(spec: NewInstance, creator: string): Promise<InstanceInfo> {
    const { name, plugin: pluginId } = spec;
    if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(`${JSON.stringify(String(name).slice(0, 100))} is not an instance name: use 1 to 64 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`, 'name');
    }
    if (this.options.configured.declares(this.kind, name, this.service)) {
      throw new FailedPreconditionError(`${this.kind} instance "${name}" ${this.configuredAs(name)}; change it there, or choose another name`, {
        reason: 'PLUGIN_INSTANCE_CONFIGURED',
        resource: this.resourceOf(name),
      });
    }
    if (this.own.has(name) || (await this.options.records.find(this.kind, name))) throw this.exists(name);
    const plugin = this.options.registry.plugin(this.kind, pluginId);
    if (!plugin) {
      const loaded = this.options.registry.listPlugins(this.kind).map((p) => p.manifest.id);
      const other = this.options.registry.listPlugins().find((p) => p.manifest.id === pluginId);
      const why = other ? `is a ${other.manifest.kind} plugin, not a ${this.kind} plugin` : 'is not loaded';
      throw new InvalidArgumentError(`plugin ${JSON.stringify(String(pluginId).slice(0, 100))} ${why}; loaded ${this.kind} plugins: ${loaded.join(', ') || 'none'}`, 'plugin', {
        reason: 'PLUGIN_NOT_LOADED',
      });
    }
    const owner = { kind: this.kind, instance: name, plugin: pluginId };
    let sealed: unknown;
    try {
      sealed = await sealSecrets(plugin.configSchema, spec.config ?? {}, owner, this.options.configured.secretsKms);
    } catch (error) {
      throw this.configRefused(error, 'PLUGIN_SECRET_UNWRAPPABLE');
    }
    const stored: StoredInstance = { kind: this.kind, name, plugin: pluginId, config: sealed, createTime: new Date(), creator };
    try {
      await this.createOwn(stored);
    } catch (error) {
      if (error instanceof PluginConfigError) throw this.configRefused(error);
      throw new FailedPreconditionError(`${this.kind} instance "${name}" (plugin ${pluginId}) cannot be created: ${failureOf(error)}`, {
        reason: 'PLUGIN_INSTANCE_FAILED',
        resource: this.resourceOf(name),
      });
    }
    try {
      await this.options.records.insert(stored);
    } catch (error) {
      await this.closeOwn(name);
      throw isUniqueViolation(error) ? this.exists(name) : error;
    }
    this.options.logger?.info({ kind: this.kind, instance: name, plugin: pluginId, creator }, `${this.kind} instance created`);
    return this.storedInfo(stored);
  }

  /**
   * Deletes an API instance: NOT_FOUND `PLUGIN_INSTANCE_NOT_FOUND`; FAILED_PRECONDITION
   * `PLUGIN_INSTANCE_CONFIGURED` for one the config declares, `PLUGIN_INSTANCE_IN_USE` naming projects
   * that chose it. What runs and versions recorded in it stays in its backend.
   */
  async delete(name: string): Promise<void> {
    if (this.options.configured.declares(this.kind, name, this.service)) {
      throw new FailedPreconditionError(`${this.kind} instance "${name}" ${this.configuredAs(name)}; remove it there`, {
        reason: 'PLUGIN_INSTANCE_CONFIGURED',
        resource: this.resourceOf(name),
      });
    }
    if (!this.own.has(name) && !(await this.options.records.find(this.kind, name))) throw this.notFound(name);
    const using = await this.options.records.projectsUsing(this.kind, name, PROJECTS_NAMED + 1);
    if (using.length) {
      const named = using.slice(0, PROJECTS_NAMED).join(', ') + (using.length > PROJECTS_NAMED ? ', ...' : '');
      throw new FailedPreconditionError(`${this.kind} instance "${name}" is the choice of projects ${named}; have them choose another first`, {
        reason: 'PLUGIN_INSTANCE_IN_USE',
        resource: this.resourceOf(name),
      });
    }
    await this.options.records.delete(this.kind, name);
    await this.closeOwn(name);
  }

  /** Closes the API instances (the registry closes configured ones with the process) and drops their readiness checks. */
  async close(): Promise<void> {
    for (const name of [...this.own.keys()]) await this.closeOwn(name).catch(() => undefined);
  }

  /** `services/<service>/plugins/<kind>/instances/<name>`: how errors and audit name an instance. */
  resourceOf(name: string): string {
    return resourceName(['services', this.service], ['plugins', this.kind], ['instances', name]);
  }

  private async openStored(name: string): Promise<PluginInstanceByKind[K]> {
    const stored = await this.options.records.find(this.kind, name);
    if (!stored) throw this.notFound(name);
    const current = this.own.get(name);
    if (current && 'instance' in current) return current.instance;
    try {
      return await this.createOwn(stored);
    } catch (error) {
      throw new UnavailableError(`${this.kind} instance "${name}" (plugin ${stored.plugin}) is not available: ${failureOf(error)}`, {
        reason: PLUGIN_BACKEND_FAILED,
        resource: this.resourceOf(name),
        metadata: { kind: this.kind, instance: name, plugin: stored.plugin },
      });
    }
  }

  /** Resolves the stored config's secrets, creates the instance, checks its health, and keeps it. */
  private async createOwn(stored: StoredInstance): Promise<PluginInstanceByKind[K]> {
    const { registry, configured } = this.options;
    const plugin = registry.plugin(this.kind, stored.plugin);
    const owner = { kind: this.kind, instance: stored.name, plugin: stored.plugin };
    const config = plugin ? await resolveSecrets(plugin.configSchema, stored.config, owner, this.kind === 'kms' ? async () => undefined : configured.secretsKms) : stored.config;
    const raw = await registry.createInstance(this.kind, { name: stored.name, plugin: stored.plugin, config, owner: this.service });
    const health = await checkHealth(raw);
    if (!health.ok) {
      await registry.closeInstance(this.kind, stored.name, this.service).catch(() => undefined);
      throw new Error(`its health check failed: ${health.message}`);
    }
    const instance = guardInstance({ kind: this.kind, name: stored.name, plugin: stored.plugin }, raw);
    this.own.set(stored.name, { stored, instance, raw });
    this.addReadiness(stored.name, () => checkHealth(raw));
    return instance;
  }

  private async closeOwn(name: string): Promise<void> {
    this.removeChecks.get(name)?.();
    this.removeChecks.delete(name);
    this.own.delete(name);
    await this.options.registry.closeInstance(this.kind, name, this.service);
  }

  private addReadiness(name: string, check: () => Promise<InstanceHealth>): void {
    if (!this.options.addReadinessCheck) return;
    this.removeChecks.get(name)?.();
    const plugin = this.own.get(name)?.stored.plugin;
    this.removeChecks.set(
      name,
      this.options.addReadinessCheck({
        name: `${this.service}.plugin.${this.kind}.${name}`,
        check: async () => {
          const health = await check();
          return health.ok ? undefined : { degraded: `${this.kind} instance "${name}"${plugin ? ` (plugin ${plugin})` : ''}: ${health.message}` };
        },
      }),
    );
  }

  /** How the config holds an instance the API may not touch: declared there, or a default of the service's own that a section of its name would replace. */
  private configuredAs(name: string): string {
    const own = this.options.configured.get(this.kind, name, this.service)?.owner !== undefined;
    return own ? `is one ${this.service} makes for its own use, which a config section ${this.kind}.${name} replaces` : `is declared in the config (${this.kind}.${name})`;
  }

  private configuredInfo(name: string): InstanceInfo {
    const entry = this.options.configured.get(this.kind, name, this.service);
    if (!entry) throw this.notFound(name);
    const plugin = this.options.registry.plugin(this.kind, entry.plugin);
    return { kind: this.kind, name, plugin: entry.plugin, source: 'config', config: plugin ? redactSecrets(plugin.configSchema, entry.declared) : {} };
  }

  private storedInfo(stored: StoredInstance): InstanceInfo {
    const plugin = this.options.registry.plugin(this.kind, stored.plugin);
    return {
      kind: this.kind,
      name: stored.name,
      plugin: stored.plugin,
      source: 'api',
      config: plugin ? redactSecrets(plugin.configSchema, stored.config) : {},
      createTime: stored.createTime,
      creator: stored.creator,
    };
  }

  private notFound(name: string): NotFoundError {
    const names = this.names();
    return new NotFoundError(`${this.service} has no ${this.kind} instance named ${JSON.stringify(name.slice(0, 100))}; its ${this.kind} instances: ${names.join(', ') || 'none'}`, {
      reason: 'PLUGIN_INSTANCE_NOT_FOUND',
      resource: this.resourceOf(name),
    });
  }

  private exists(name: string): AlreadyExistsError {
    return new AlreadyExistsError(`${this.service} already has a ${this.kind} instance named "${name}"; instance names are unique per kind`, {
      reason: 'PLUGIN_INSTANCE_EXISTS',
      resource: this.resourceOf(name),
    });
  }

  /** A refused config as INVALID_ARGUMENT with one violation per path (`config.<path>`), or FAILED_PRECONDITION for a secret no KMS can wrap. */
  private configRefused(error: unknown, secretReason?: string): unknown {
    if (!(error instanceof PluginConfigError)) return error;
    const noKms = secretReason && error.issues.some((issue) => issue.message.includes('no KMS instance'));
    if (noKms) return new FailedPreconditionError(error.message, { reason: secretReason });
    const violations = error.issues.map((issue) => ({ field: issue.path ? `config.${issue.path}` : 'config', description: issue.message }));
    return new InvalidArgumentError(error.message, undefined, { reason: 'PLUGIN_CONFIG_INVALID', violations });
  }
}

/** A plugin's failure in words: its message, without the registry's wrapping where that only repeats the instance. */
function failureOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
