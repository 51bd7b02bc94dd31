import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config';
import type { ServiceDefinition } from './define-service';
import { PlatformRuntime } from './platform-runtime';
import { startService, type RunningService } from './start-service';

/** What a process runs: the mode it insists on and the services it hosts. */
export interface ProcessPlan {
  mode: 'standalone' | 'distributed';
  services: readonly ServiceDefinition[];
  /** Where the human-readable summary goes (default: stdout). */
  print?: (line: string) => void;
}

/** A started process: its services and ops address, and how to stop it all. */
export interface RunningProcess {
  runtime: PlatformRuntime;
  services: RunningService[];
  opsAddress: string;
  /** Drains: readiness goes 503, in-flight calls finish, outboxes flush, then everything closes. */
  stop(): Promise<void>;
}

/**
 * Starts a Trellis process: loads and checks the config, starts the ops endpoints and every
 * service, prints where each listens, and stops gracefully on SIGINT or SIGTERM.
 * `apps/standalone` and `apps/<service>` are each one call of this.
 */
export async function runProcess(plan: ProcessPlan): Promise<RunningProcess> {
  const print = plan.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = loadConfig({ services: plan.services.map((service) => service.name) });
  if (config.mode !== plan.mode) {
    throw new ConfigError(`mode is "${config.mode}" but this program runs ${plan.mode} mode; set mode (TRELLIS_MODE) to ${plan.mode}`);
  }
  if (config.mode === 'standalone') mkdirSync(config.dataDir, { recursive: true });
  const hostsGovernance = plan.services.some((service) => service.name === 'governance');
  if (config.mode === 'distributed' && !hostsGovernance && !config.auth.jwksUrl && !config.auth.jwksFile) {
    throw new ConfigError(
      "auth.jwksUrl (TRELLIS_AUTH_JWKS_URL) must point at governance's /.well-known/jwks.json: services verify tokens against its keys",
    );
  }

  const runtime = await PlatformRuntime.create(config, { holdEvents: true });
  const services: RunningService[] = [];
  const stop = async () => {
    runtime.drain();
    for (const service of services) await service.stopRelay();
    for (const service of services.reverse()) await service.close();
    await runtime.close();
  };
  try {
    const opsAddress = await runtime.listenOps();
    for (const definition of plan.services) services.push(await startService(definition, runtime));
    runtime.releaseEvents();

    const row = (label: string, value: string) => print(`  ${label.padEnd(12)} ${value}`);
    print(`Trellis (${config.mode}) is running.`);
    row('ops', `${opsAddress}  (/healthz /readyz /metrics)`);
    for (const service of services) row(service.name, `grpc://${service.grpcAddress}`);
    if (services.length === 0) print('  no services are registered in this build yet');
    if (config.mode === 'standalone') row('data', config.dataDir);
    return { runtime, services, opsAddress, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs a process until SIGINT or SIGTERM, exiting non-zero with a readable message if it cannot start. */
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
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
