import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyPlugin } from '@trellis/plugin-sdk';
import { ConfiguredInstances, loadPluginPackages, PluginRegistry } from '../plugins';
import type { JSONWebKeySet } from 'jose';
import { followRevocations } from '../auth/revocation-feed';
import { revocationLifetimeMs, RevocationList } from '../auth/revocation-list';
import { credentialReference, credentialSetting, governanceTokenSource, LocalServiceCredentials, resolveSecretReference, ServiceIdentity, type ServiceTokenSource } from '../auth/service-identity';
import { TokenVerifier, type KeySetSource } from '../auth/token-verifier';
import { ServiceClients } from '../grpc/service-clients';
import { ConfigError, type TrellisConfig } from '../config';
import { InProcessBus, JetStreamBus, reportConsumerBacklog, type EventBus } from '../events';
import { createLogger, logFormatFor, type Logger } from '../ops/logger';
import { Metrics } from '../ops/metrics';
import { OpsServer, type ReadinessCheck } from '../ops/ops-server';
import { AfterStart } from './after-start';
import { listenError, printableUrl, unreachableError } from './startup-error';

/** Where governance publishes its signing keys on the ops HTTP port. */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * What one process shares between the services it runs: config, logger, metrics, the ops HTTP
 * endpoints, the token verifier, the deny list of revoked tokens and the event bus (in-process in
 * standalone, JetStream otherwise).
 */
export class PlatformRuntime {
  private verifierInstance?: TokenVerifier;
  private readonly addresses = new Map<string, string>();
  /**
   * The plugin instances the config declares (`storage.<name>`, `kms.<name>`, ...), shared by the
   * services of this process: a kind's are created when the first service that uses it starts.
   */
  readonly instances: ConfiguredInstances;
  /** Clients of the platform's services, found in this process first, else at `services.<name>.address`. */
  readonly clients = new ServiceClients((service) => this.addresses.get(service) ?? this.config.services[service]?.address);
  private opsAddress?: string;
  private localCredentialsInstance?: LocalServiceCredentials;
  /** Where services' own tokens come from when not from governance: a test platform mints them with its key set. */
  serviceTokenSource?: (service: string) => ServiceTokenSource;

  private constructor(
    readonly config: TrellisConfig,
    readonly logger: Logger,
    readonly metrics: Metrics,
    readonly ops: OpsServer,
    readonly bus: EventBus,
    /** Plugins built into the program and those listed in `plugins`, with their instances. */
    readonly plugins: PluginRegistry,
    /** Work the services defer until every server of the process listens. */
    readonly afterStart: AfterStart,
    /** Revocations governance published, followed from the bus: the verifier and the gateway refuse what they name. */
    readonly revocations: RevocationList,
  ) {
    this.instances = new ConfiguredInstances(plugins, {
      dataDir: config.dataDir,
      sections: { storage: config.storage, compute: config.compute, drift: config.drift, runtime: config.runtime, kms: config.kms, notifier: config.notifier },
      addReadinessCheck: (check) => ops.addReadinessCheck(check),
      logger,
    });
  }

  /**
   * Connects what the process needs (NATS in distributed mode); nothing listens yet.
   * With `holdEvents`, in-process delivery waits for `releaseEvents()`, so events left in an outbox
   * by the last run are not handed out before every service has subscribed. With `withoutBroker`,
   * events stay in process in distributed mode too, so nothing needs NATS (checks of a process's
   * settings); such a process hears of no revocation made elsewhere. `plugins` are registered before the
   * packages listed in the config's `plugins` are loaded (the standalone program builds some in).
   * With `holdAfterStart`, the services' after-start work waits for `afterStart.release()`.
   */
  static async create(
    config: TrellisConfig,
    options: { logger?: Logger; holdEvents?: boolean; withoutBroker?: boolean; holdAfterStart?: boolean; plugins?: readonly AnyPlugin[] } = {},
  ): Promise<PlatformRuntime> {
    const logger = options.logger ?? createLogger({ level: config.log.level, format: logFormatFor(config.log.format) });
    const metrics = new Metrics();
    const ops = new OpsServer(metrics, logger);
    const bus = config.mode === 'standalone' || options.withoutBroker ? new InProcessBus({ logger, paused: options.holdEvents }) : await connectNats(config, logger);
    if (bus instanceof JetStreamBus) ops.addReadinessCheck(natsReadiness(bus, config));
    reportConsumerBacklog(metrics, bus);
    const revocations = new RevocationList();
    const plugins = new PluginRegistry({
      dataDir: join(config.dataDir, 'plugins'),
      loggerFor: (instance) => logger.child({ kind: instance.kind, plugin: instance.plugin, instance: instance.name, ...(instance.owner ? { service: instance.owner } : {}) }),
    });
    try {
      for (const plugin of options.plugins ?? []) plugins.register(plugin, 'built in');
      await loadPluginPackages(plugins, { packages: config.plugins, pluginsDir: config.pluginsDir, logger });
      await followRevocations(bus, revocations, { lookbackMs: revocationLifetimeMs(config.auth.tokenTtlSeconds) });
    } catch (error) {
      await bus.close();
      throw error;
    }
    return new PlatformRuntime(config, logger, metrics, ops, bus, plugins, new AfterStart(options.holdAfterStart ?? false), revocations);
  }

  /**
   * The token verifier, built on first use from `auth.jwksUrl` or `auth.jwksFile`; when neither
   * is set, from this process's own `/.well-known/jwks.json`, which governance serves when it runs
   * here (standalone, or the governance process itself).
   */
  get verifier(): TokenVerifier {
    this.verifierInstance ??= new TokenVerifier({
      keys: keySetSource(this.config, this.opsAddress),
      issuer: this.config.auth.issuer,
      audience: this.config.auth.audience,
      revocations: this.revocations,
    });
    return this.verifierInstance;
  }

  /** Standalone: how governance of this process hands services their credentials. */
  get localCredentials(): LocalServiceCredentials {
    return (this.localCredentialsInstance ??= new LocalServiceCredentials(join(this.config.dataDir, 'keys')));
  }

  /** A new ServiceIdentity of `service`, getting its tokens from governance (or {@link serviceTokenSource}). */
  identityFor(service: string, logger?: Logger): ServiceIdentity {
    const source = this.serviceTokenSource?.(service) ?? governanceTokenSource(service, this.config, this.clients);
    return new ServiceIdentity({ service, source, logger });
  }

  /**
   * Refuses to start a service that runs work as itself without a readable credential, naming
   * the setting (standalone: the key file governance of this process wrote).
   */
  async checkServiceCredential(service: string): Promise<void> {
    if (this.serviceTokenSource) return;
    if (this.config.mode === 'standalone' && !this.config.services[service]?.credential) await this.localCredentials.ensure(service);
    await resolveSecretReference(credentialReference(service, this.config), credentialSetting(service));
  }

  /** Starts the ops HTTP endpoints (once) and returns their address. */
  async listenOps(): Promise<string> {
    const { host, opsPort } = this.config;
    try {
      this.opsAddress ??= await this.ops.listen(host, opsPort);
    } catch (error) {
      throw listenError(error, 'the ops endpoints (/healthz /readyz /metrics)', `${host}:${opsPort}`, 'opsPort (TRELLIS_OPS_PORT; each process on a host needs its own)');
    }
    return this.opsAddress;
  }

  /** Starts in-process delivery held by `holdEvents` (JetStream needs no such step). */
  releaseEvents(): void {
    if (this.bus instanceof InProcessBus) this.bus.resume();
  }

  /** Marks the process as not ready, so traffic stops arriving before shutdown. */
  drain(): void {
    this.ops.drain();
  }

  /** Records where a service of this process answers, so its neighbours call it directly. */
  serviceListening(service: string, grpcAddress: string): void {
    this.addresses.set(service, grpcAddress);
  }

  async close(): Promise<void> {
    this.clients.close();
    this.instances.close();
    await this.plugins.close();
    await this.bus.close();
    await this.ops.close();
  }
}

/** The JetStream bus of distributed mode; an unreachable NATS is a StartupError naming `nats.url`. */
async function connectNats(config: TrellisConfig, logger: Logger): Promise<JetStreamBus> {
  const { url, stream, subjectPrefix } = config.nats;
  try {
    return await JetStreamBus.connect({ servers: url, stream, subjectPrefix, logger });
  } catch (error) {
    throw unreachableError('NATS', printableUrl(url), 'nats.url (TRELLIS_NATS_URL)', error);
  }
}

/** NATS out of reach leaves the process ready, since writes keep their events in the outboxes, but degraded. */
function natsReadiness(bus: JetStreamBus, config: TrellisConfig): ReadinessCheck {
  const degraded = `NATS at ${printableUrl(config.nats.url)} is out of reach; reconnecting. Writes still succeed: their events wait in the outboxes`;
  return { name: 'events.nats', check: async () => (bus.isConnected() ? undefined : { degraded }) };
}

function keySetSource(config: TrellisConfig, opsAddress: string | undefined): KeySetSource {
  if (config.auth.jwksUrl) return { kind: 'remote', url: config.auth.jwksUrl };
  if (config.auth.jwksFile) {
    try {
      return { kind: 'local', keys: JSON.parse(readFileSync(config.auth.jwksFile, 'utf8')) as JSONWebKeySet };
    } catch (error) {
      throw new ConfigError(`auth.jwksFile: cannot read a JSON Web Key Set from ${config.auth.jwksFile}: ${(error as Error).message}`);
    }
  }
  if (opsAddress) return { kind: 'remote', url: `${opsAddress}${JWKS_PATH}` };
  throw new ConfigError('auth.jwksUrl (TRELLIS_AUTH_JWKS_URL) or auth.jwksFile (TRELLIS_AUTH_JWKS_FILE) must be set: services verify tokens against governance\'s keys');
}
