import { Global, Module, type DynamicModule } from '@nestjs/common';
import { PluginRegistry, pluginInstancesToken, ServicePluginInstances } from '../plugins';
import { DataSource } from 'typeorm';
import { AuditRecorder } from '../audit/audit-recorder';
import { LocalServiceCredentials, ServiceIdentity } from '../auth/service-identity';
import { TokenVerifier } from '../auth/token-verifier';
import type { TrellisConfig } from '../config';
import type { EventBus } from '../events';
import { Outbox } from '../events';
import { ServiceClients } from '../grpc/service-clients';
import { AfterStart } from './after-start';
import type { Logger } from '../ops/logger';
import { Metrics } from '../ops/metrics';
import { OpsServer } from '../ops/ops-server';

/** Injection token of the service's logger (a pino child named after the service). */
export const LOGGER = Symbol('trellis:logger');
/** Injection token of the validated TrellisConfig. */
export const CONFIG = Symbol('trellis:config');
/**
 * Injection token of the service's own settings, parsed by the `config` schema of its definition:
 * `@Inject(SERVICE_CONFIG) config: ServiceConfigOf<typeof mySchema>`.
 */
export const SERVICE_CONFIG = Symbol('trellis:service-config');
/** Injection token of the process's EventBus (for subscriptions). */
export const EVENT_BUS = Symbol('trellis:event-bus');

/** What the kit hands to one service's Nest container. */
export interface KitDependencies {
  /** The service's name; its audit events go out on `trellis.<service>.v1.audit.recorded`. */
  service: string;
  config: TrellisConfig;
  /** The service's own settings (its section, parsed by its definition's schema). */
  serviceConfig: unknown;
  logger: Logger;
  metrics: Metrics;
  ops: OpsServer;
  verifier: TokenVerifier;
  dataSource: DataSource;
  outbox: Outbox;
  bus: EventBus;
  /** The process's plugins and their named instances. */
  plugins: PluginRegistry;
  /** Clients of the other platform services. */
  clients: ServiceClients;
  /** The service's plugin instances of each kind it declares (`@InjectPluginInstances(kind)`, or all of them as `ServicePluginInstances`). */
  pluginInstances: ServicePluginInstances;
  /** Work deferred until every server of the process listens. */
  afterStart: AfterStart;
  /** The service's own principal, for work that outlives a request. */
  identity: ServiceIdentity;
  /** Standalone: where governance provisions the credentials of the process's services. */
  localCredentials: LocalServiceCredentials;
}

/**
 * Makes the kit's objects injectable in a service: its DataSource and Outbox, the logger
 * (`@Inject(LOGGER)`), the config (`@Inject(CONFIG)`) and the service's own section
 * (`@Inject(SERVICE_CONFIG)`), metrics, the ops HTTP server, the token verifier, the event bus,
 * the plugin registry, the service's plugin instances (`@InjectPluginInstances(kind)`), the
 * process's AfterStart and the service's ServiceIdentity.
 */
@Global()
@Module({})
export class KitModule {
  static with(deps: KitDependencies): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: deps.config },
      { provide: SERVICE_CONFIG, useValue: deps.serviceConfig },
      { provide: LOGGER, useValue: deps.logger },
      { provide: EVENT_BUS, useValue: deps.bus },
      { provide: Metrics, useValue: deps.metrics },
      { provide: OpsServer, useValue: deps.ops },
      { provide: TokenVerifier, useValue: deps.verifier },
      { provide: DataSource, useValue: deps.dataSource },
      { provide: Outbox, useValue: deps.outbox },
      { provide: PluginRegistry, useValue: deps.plugins },
      { provide: ServiceClients, useValue: deps.clients },
      { provide: ServicePluginInstances, useValue: deps.pluginInstances },
      ...deps.pluginInstances.kinds().map((kind) => ({ provide: pluginInstancesToken(kind), useValue: deps.pluginInstances.of(kind) })),
      { provide: AfterStart, useValue: deps.afterStart },
      { provide: ServiceIdentity, useValue: deps.identity },
      { provide: LocalServiceCredentials, useValue: deps.localCredentials },
      { provide: AuditRecorder, useValue: new AuditRecorder(deps.service, deps.dataSource, deps.outbox, deps.logger) },
    ];
    return { module: KitModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}
