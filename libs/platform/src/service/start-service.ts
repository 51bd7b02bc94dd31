import { Module, type DynamicModule, type LoggerService, type Type } from '@nestjs/common';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ConfigError, parseServiceSection, type TrellisConfig } from '../config';
import { Outbox, OutboxRelay } from '../events';
import { createHealth, serveService, setHealth, type ServedApplication } from '../grpc/grpc-server';
import type { Logger } from '../ops/logger';
import type { ReadinessReport } from '../ops/ops-server';
import { openDatabase, OutboxEntity, type DatabaseConfig } from '../persistence';
import type { ServiceDefinition } from './define-service';
import { KitModule, type KitDependencies } from './kit.module';
import { assertEveryMethodGuarded } from './permission-check';
import type { PlatformRuntime } from './platform-runtime';
import { checkPluginKinds, servicePluginInstances, startPluginInstances, withPluginAdmin, withPluginTables } from './service-plugins';
import { startSubscriptions } from './service-subscriptions';
import { startWorkers } from '../workers/service-workers';
import { listenError, printableUrl, unreachableError } from './startup-error';

/** A service that is up: where it listens and how to stop it. */
export interface RunningService {
  name: string;
  /** host:port of its gRPC server. */
  grpcAddress: string;
  app: ServedApplication;
  dataSource: DataSource;
  /** Stops the service's workers, first of all on drain; resolves once each has returned. */
  stopWorkers(): Promise<void>;
  /**
   * Stops delivering the outbox (events stay stored). A process stops every service's relay before
   * closing any service, so no event is handed to a subscriber that is going away.
   */
  stopRelay(): Promise<void>;
  /**
   * Stops the workers, the relay and the event subscriptions, stops taking calls, lets in-flight
   * calls finish, closes the database.
   */
  close(): Promise<void>;
}

/**
 * Starts one service on a runtime: checks that every gRPC method is guarded and that the plugin
 * kinds it needs are loaded, opens and migrates its database, starts its outbox relay, serves gRPC
 * with health and reflection (its config section validated as the container is built), then
 * subscribes its event handlers and starts its workers. A service that declares plugins also gets
 * its plugin instances (created before it listens; a configured one that fails stops the start),
 * the kit's instance tables in its database, and `PluginInstanceService` on its port.
 */
export async function startService(declared: ServiceDefinition, runtime: PlatformRuntime): Promise<RunningService> {
  const definition = withPluginAdmin(declared);
  assertEveryMethodGuarded(definition.module, definition.grpcServices);
  checkPluginKinds(definition, runtime.plugins);
  if (definition.identity) await runtime.checkServiceCredential(definition.name);
  const { config } = runtime;
  const logger = runtime.logger.child({ service: definition.name });
  const identity = runtime.identityFor(definition.name, logger);
  const database = databaseFor(definition.name, config);
  const dataSource = await openDatabase({
    service: definition.name,
    database,
    entities: definition.entities ?? [],
    // Services that use plugins keep the instances their API creates, and projects' choices, in kit tables.
    migrations: withPluginTables(definition),
    logger,
  }).catch((error: unknown) => {
    throw database.type === 'postgres' && isConnectionFailure(error)
      ? unreachableError('PostgreSQL', printableUrl(database.url), databaseSetting(definition.name, config), error)
      : error;
  });
  const pluginInstances = servicePluginInstances(definition, runtime, dataSource, logger);
  try {
    await startPluginInstances(pluginInstances);
  } catch (error) {
    await pluginInstances.close().catch(() => undefined);
    await dataSource.destroy();
    throw error;
  }
  const relay = new OutboxRelay({ dataSource, bus: runtime.bus, logger, backlogMetrics: { metrics: runtime.metrics, service: definition.name } });
  const outbox = new Outbox({ relay });
  relay.start();

  const health = createHealth(definition.grpcServices);
  const configured = config.services[definition.name]?.port ?? definition.defaultPort;
  let app: ServedApplication | undefined;
  let grpcAddress = `${config.host}:${configured}`;
  try {
    const port = configured === 0 ? await freePort(config.host) : configured;
    grpcAddress = `${config.host}:${port}`;
    app = await serveService(
      rootModule(definition, {
        service: definition.name,
        config,
        logger,
        metrics: runtime.metrics,
        ops: runtime.ops,
        verifier: runtime.verifier,
        dataSource,
        outbox,
        bus: runtime.bus,
        plugins: runtime.plugins,
        clients: runtime.clients,
        pluginInstances,
        afterStart: runtime.afterStart,
        identity,
        localCredentials: runtime.localCredentials,
      }),
      {
        name: definition.name,
        services: definition.grpcServices,
        url: `${config.host}:${port}`,
        health,
        metrics: runtime.metrics,
        logger,
        verifier: runtime.verifier,
        nestLogger: new NestLogger(logger),
      },
    );
  } catch (error) {
    await app?.close().catch(() => undefined);
    await relay.stop();
    await pluginInstances.close().catch(() => undefined);
    await dataSource.destroy();
    const name = definition.name;
    throw listenError(error, `the ${name} gRPC server`, grpcAddress, `services.${name}.port (TRELLIS_${name.toUpperCase()}_PORT)`);
  }
  const started = app;
  const get = <T>(type: Type<T>): T => started.get(type, { strict: false });
  let subscriptions: Awaited<ReturnType<typeof startSubscriptions>>;
  try {
    subscriptions = await startSubscriptions({ service: definition.name, subscriptions: definition.subscriptions ?? [], get, bus: runtime.bus, dataSource, logger });
  } catch (error) {
    await started.close().catch(() => undefined);
    await relay.stop();
    await pluginInstances.close().catch(() => undefined);
    await dataSource.destroy();
    throw error;
  }
  const workers = startWorkers({ service: definition.name, workers: definition.workers ?? [], get, database, logger });
  setHealth(health, definition.grpcServices, true);
  const readinessChecks = [
    runtime.ops.addReadinessCheck({ name: `${definition.name}.database`, check: async () => void (await dataSource.query('SELECT 1')) }),
    runtime.ops.addReadinessCheck({ name: `${definition.name}.outbox`, check: () => outboxReadiness(dataSource, relay) }),
  ];
  runtime.serviceListening(definition.name, grpcAddress);
  logger.info({ grpcAddress }, `${definition.name} listening`);

  return {
    name: definition.name,
    grpcAddress,
    app: started,
    dataSource,
    stopWorkers: () => workers.stop(),
    stopRelay: () => relay.stop(),
    async close() {
      setHealth(health, definition.grpcServices, false);
      for (const remove of readinessChecks) remove();
      // Workers stop first, so none is left working on a service that is going away. The relay
      // stops next: events of calls still finishing stay in the outbox for the next start,
      // rather than going to subscribers that are shutting down and losing them.
      await workers.stop();
      await relay.stop();
      await subscriptions.stop();
      await started.close();
      identity.close();
      await pluginInstances.close();
      await dataSource.destroy();
      logger.info(`${definition.name} stopped`);
    },
  };
}

/**
 * How many events wait in the outbox (on PostgreSQL, those of every process on the database), and,
 * while the relay cannot deliver them, why: degraded, not unready, since writes still succeed.
 */
async function outboxReadiness(dataSource: DataSource, relay: OutboxRelay): Promise<ReadinessReport> {
  const pending = await dataSource.getRepository(OutboxEntity).count();
  const failing = relay.failing;
  const degraded = failing && `events wait in the outbox: the relay cannot deliver them since ${failing.since.toISOString()} (${failing.reason}); retrying`;
  return { figures: { pending }, degraded };
}

/** The service's container: the kit's providers (its config section validated here) and its module. */
function rootModule(definition: ServiceDefinition, deps: Omit<KitDependencies, 'serviceConfig'>): DynamicModule {
  @Module({})
  class ServiceRootModule {}
  const serviceConfig = parseServiceSection(definition.name, definition.config, deps.config.services[definition.name]);
  return {
    module: ServiceRootModule,
    imports: [KitModule.with({ ...deps, serviceConfig }), definition.module],
  };
}

/** The database of a service: a SQLite file in standalone, its own PostgreSQL database otherwise. */
export function databaseFor(service: string, config: TrellisConfig): DatabaseConfig {
  if (config.mode === 'standalone') return { type: 'sqlite', path: join(config.dataDir, `${service}.sqlite`) };
  const own = config.services[service]?.databaseUrl;
  if (own) return { type: 'postgres', url: own };
  if (!config.databaseUrl) {
    throw new ConfigError(
      `distributed mode needs a database for ${service}: set databaseUrl (TRELLIS_DATABASE_URL) or services.${service}.databaseUrl (TRELLIS_${service.toUpperCase()}_DATABASE_URL)`,
    );
  }
  const url = new URL(config.databaseUrl);
  url.pathname = `/trellis_${service}`;
  return { type: 'postgres', url: url.toString() };
}

/** The setting that names a service's PostgreSQL database, as an error message should name it. */
function databaseSetting(service: string, config: TrellisConfig): string {
  const own = `services.${service}.databaseUrl (TRELLIS_${service.toUpperCase()}_DATABASE_URL)`;
  return config.services[service]?.databaseUrl ? own : 'databaseUrl (TRELLIS_DATABASE_URL)';
}

/**
 * Whether opening a database failed for want of a usable server: no answer (system errors such as
 * ECONNREFUSED, ENOTFOUND), a refused login (SQLSTATE class 28), a connection failure (class 08), or
 * a database that is missing and may not be created (3D000, 42501). Failed migrations are not.
 */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (/^E[A-Z]+$/.test(code) || /^(08|28)/.test(code) || code === '3D000' || code === '42501');
}

/** A port that is free right now, for services configured with port 0 (tests, ad-hoc runs). */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sends NestJS's own log lines to the service's pino logger. */
class NestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
