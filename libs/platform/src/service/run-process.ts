import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AnyPlugin } from '@trellis/plugin-sdk';
import { ConfigError, loadConfig, parseServiceSection, type TrellisConfig } from '../config';
import { credentialReference } from '../auth/service-identity';
import type { ServiceDefinition } from './define-service';
import { PlatformRuntime } from './platform-runtime';
import { startService, type RunningService } from './start-service';
import { warnUnusedPluginKinds } from './service-plugins';
import { StartupError } from './startup-error';

/** What an edge is given when its process starts it. */
export interface EdgeContext {
  runtime: PlatformRuntime;
  /** Service name -> gRPC address (`host:port`) of each service this process hosts. */
  upstreams: Readonly<Record<string, string>>;
}

/** An edge that is up: where it listens and how to stop it. */
export interface RunningEdge {
  /** The URL it serves, as printed in the summary (`http://127.0.0.1:8080`). */
  address: string;
  /** More lines of the summary, label -> text (the gateway's web UI). */
  summary?: Readonly<Record<string, string>>;
  /** Stops accepting connections and lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

/**
 * A front a process serves next to its services, such as the HTTP gateway: it owns no data and
 * reaches services only as a gRPC client. A process starts its edges after its services (so
 * `upstreams` names them) and closes them before its services, so no request that an edge has
 * accepted finds its service gone.
 */
export interface EdgeDefinition {
  /** Lowercase name, printed in the summary next to `address`. */
  name: string;
  start(context: EdgeContext): Promise<RunningEdge>;
}

/** What a process runs: the mode it insists on, the services it hosts and the edges it serves. */
export interface ProcessPlan {
  mode: 'standalone' | 'distributed';
  services: readonly ServiceDefinition[];
  /** Edges started after the services; a process may host edges only (a gateway process). */
  edges?: readonly EdgeDefinition[];
  /** Plugins built into the program (storage-fs in standalone); the config's `plugins` add more. */
  plugins?: readonly AnyPlugin[];
  /** Where the human-readable summary goes (default: stdout). */
  print?: (line: string) => void;
}

/** A started process: its services, edges and ops address, and how to stop it all. */
export interface RunningProcess {
  runtime: PlatformRuntime;
  services: RunningService[];
  edges: Array<{ name: string; address: string }>;
  opsAddress: string;
  /** Drains: readiness goes 503, edges finish their requests, workers stop, in-flight calls finish, outboxes flush, then everything closes. */
  stop(): Promise<void>;
}

/**
 * Starts a Trellis process: loads and checks the config, starts the ops endpoints, every service
 * and then every edge, runs the work services deferred until then (the first admin key), and
 * prints where each listens, then that work's notices, so a terminal ends with them rather than
 * with log lines. Stops gracefully on SIGINT or SIGTERM. `apps/standalone` and `apps/<service>`
 * are each one call of this.
 */
export async function runProcess(plan: ProcessPlan): Promise<RunningProcess> {
  const print = plan.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ services: plan.services.map((service) => service.name) });
  checkPlan(plan, config);
  if (config.mode === 'standalone') mkdirSync(config.dataDir, { recursive: true });

  const runtime = await PlatformRuntime.create(config, {
    holdEvents: true,
    holdAfterStart: true,
    plugins: plan.plugins,
  });
  warnUnusedPluginKinds(plan.services, runtime);
  const services: RunningService[] = [];
  const edges: Array<RunningEdge & { name: string }> = [];
  const stop = async () => {
    runtime.drain();
    for (const edge of edges.reverse()) await edge.close();
    for (const service of services) await service.stopWorkers();
    for (const service of services) await service.stopRelay();
    for (const service of services.reverse()) await service.close();
    await runtime.close();
  };
  // Until every server listens, /readyz answers 503: checks a service adds come with its server.
  const starting = runtime.ops.addReadinessCheck({ name: 'process', check: () => Promise.reject(new Error('starting: not every server listens yet')) });
  try {
    const opsAddress = await runtime.listenOps();
    for (const definition of plan.services) services.push(await startService(definition, runtime));
    runtime.releaseEvents();
    const upstreams = Object.fromEntries(services.map((service) => [service.name, service.grpcAddress]));
    for (const definition of plan.edges ?? []) edges.push({ name: definition.name, ...(await definition.start({ runtime, upstreams })) });
    const notices = await runtime.afterStart.release();
    starting();

    const row = (label: string, value: string) => print(`  ${label.padEnd(12)} ${value}`);
    print(`Trellis (${config.mode}) is running.`);
    row('ops', `${opsAddress}  (/healthz /readyz /metrics)`);
    for (const service of services) row(service.name, `grpc://${service.grpcAddress}`);
    for (const edge of edges) {
      row(edge.name, edge.address);
      for (const [label, text] of Object.entries(edge.summary ?? {})) row(label, text);
    }
    if (services.length === 0 && edges.length === 0) print('  no services are registered in this build yet');
    if (services.length > 0) row('data', resolve(config.dataDir));
    for (const notice of notices) print(`\n${notice.trimEnd()}`);
    return { runtime, services, edges: edges.map(({ name, address }) => ({ name, address })), opsAddress, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Refuses a config this plan cannot run on, naming the setting to change. */
function checkPlan(plan: ProcessPlan, config: TrellisConfig): void {
  if (config.mode !== plan.mode) {
    throw new ConfigError(`mode is "${config.mode}" but this program runs ${plan.mode} mode; set mode (TRELLIS_MODE) to ${plan.mode}`);
  }
  // Every hosted service's section is checked before anything starts, not as each one starts.
  for (const service of plan.services) parseServiceSection(service.name, service.config, config.services[service.name]);
  if (config.mode !== 'distributed') return;
  const hosted = new Set(plan.services.map((service) => service.name));
  // Services verify tokens against governance's keys; edges only forward tokens, so need none.
  if (hosted.size > 0 && !hosted.has('governance') && !config.auth.jwksUrl && !config.auth.jwksFile) {
    throw new ConfigError(
      "auth.jwksUrl (TRELLIS_AUTH_JWKS_URL) must point at governance's key set, http://<governance host>:<its ops port>/.well-known/jwks.json: services verify tokens against its keys",
    );
  }
  for (const service of plan.services) {
    const calls = [...(service.calls ?? []), ...(service.identity && !service.calls?.includes('governance') ? ['governance'] : [])];
    const missing = calls.filter((other) => !hosted.has(other) && !config.services[other]?.address);
    if (missing.length > 0) {
      const settings = missing.map((other) => `services.${other}.address (TRELLIS_${other.toUpperCase()}_ADDRESS)`);
      throw new ConfigError(`${service.name} calls ${missing.join(' and ')}, which this process does not run: set ${settings.join(' and ')} to host:port of their gRPC servers`);
    }
    // Its credential is read at start; a missing setting is named before anything starts.
    if (service.identity) credentialReference(service.name, config);
  }
}

/** What a program tells the parent that started it with an IPC channel once it is up (tools/start-distributed.mjs waits for it). */
export interface StartedMessage {
  type: 'trellis.started';
  opsAddress: string;
  /** Service name -> gRPC address (`host:port`). */
  services: Record<string, string>;
  /** Edge name -> URL. */
  edges: Record<string, string>;
}

/**
 * Runs a process until SIGINT or SIGTERM. A start that fails exits non-zero with a readable
 * message: for a bad setting, a port in use or a server out of reach, the message alone, naming
 * the setting; for anything unexpected, the stack too. A parent that started the program with an
 * IPC channel is sent a StartedMessage once everything listens, and its going away stops the process.
 */
export function runUntilSignalled(plan: ProcessPlan): void {
  runProcess(plan).then(
    (running) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.runtime.logger.info({ signal }, 'shutting down');
        running.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            running.runtime.logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      if (process.send) {
        // A parent that started the program (tools/start-distributed.mjs) and goes away takes it along.
        process.once('disconnect', () => shutdown('parent disconnected'));
        process.send(startedMessage(running));
      }
    },
    (error: unknown) => {
      process.stderr.write(`Trellis could not start: ${readableFailure(error)}\n`);
      process.exit(1);
    },
  );
}

function startedMessage(running: RunningProcess): StartedMessage {
  return {
    type: 'trellis.started',
    opsAddress: running.opsAddress,
    services: Object.fromEntries(running.services.map((service) => [service.name, service.grpcAddress])),
    edges: Object.fromEntries(running.edges.map((edge) => [edge.name, edge.address])),
  };
}

/** Plugin errors a start can fail with that a setting fixes: their messages name the plugin, instance and setting. */
const PLUGIN_SETUP_ERRORS = ['PLUGIN_CONFIG', 'PLUGIN_LOAD', 'PLUGIN_INSTANCE'] as const;

/**
 * What a failed start or command prints: the message of an error the operator can fix (a setting,
 * a port, a server, a plugin's configuration), the stack of any other.
 */
export function readableFailure(error: unknown): string {
  if (error instanceof ConfigError || error instanceof StartupError) return error.message;
  if (PLUGIN_SETUP_ERRORS.some((code) => (error as { code?: unknown } | undefined)?.code === code)) return (error as Error).message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
