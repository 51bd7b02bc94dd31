import type { DescService } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type MethodDefinition } from '@grpc/grpc-js';
import type { DynamicModule, INestApplicationContext, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { AuditRecorder } from '../audit/audit-recorder';
import { AuthGuard } from '../auth/auth.guard';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { callHandler } from './call-handlers';
import { CallFailures } from './call-pipeline';
import { grpcRoutesOf } from './grpc-routes';
import { packageDefinitionFor } from './package-definition';
import { maxRequestBytesOf } from './request-limits';
import { statusInterceptor } from './status-interceptor';

/** What serves one service's gRPC methods. */
export interface GrpcServiceOptions {
  /** The service's name (`tracking`): its errors carry the ErrorInfo domain `<name>.trellis`. */
  name: string;
  /** The protobuf-es services it answers. */
  services: readonly DescService[];
  /** `host:port` to listen on. */
  url: string;
  health: HealthImplementation;
  metrics: Metrics;
  logger: Logger;
  verifier: TokenVerifier;
  /** Where Nest's own log lines go. */
  nestLogger: LoggerService;
}

/** A service's Nest container and its gRPC server, listening. */
export interface ServedApplication {
  /** An instance from the service's container (a provider or controller of any of its modules). */
  get<T>(type: Type<T>, options?: { strict?: boolean }): T;
  /** Stops taking calls, lets the calls in flight finish, then closes the container (its destroy and shutdown hooks). */
  close(): Promise<void>;
}

/**
 * Builds a service's container from `module` with Nest (dependency injection and lifecycle hooks
 * only) and serves its handlers on a grpc-js server at `url`. Each method of `services` is routed
 * straight to the handler a controller in `module` declares for it (`@GrpcMethod`, or
 * `@GrpcStreamMethod` for client streams), through the kit's guard, audit and error answers,
 * with no Nest pipeline per call; `grpc.health.v1.Health` and server reflection (v1 and v1alpha)
 * answer on the same port. Requests over their method's size or field limits are refused before
 * any handler sees them (see requestDecoder), and every call is counted in the metrics, whatever
 * answered it.
 */
export async function serveService(module: DynamicModule, options: GrpcServiceOptions): Promise<ServedApplication> {
  const app = await NestFactory.createApplicationContext(module, { logger: options.nestLogger, bufferLogs: false, abortOnError: false });
  let close: () => Promise<void>;
  try {
    close = await serveGrpc(app, module, options);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return {
    get: <T>(type: Type<T>, lookup?: { strict?: boolean }) => app.get<T>(type, { strict: lookup?.strict ?? false }),
    async close() {
      await close();
      await app.close();
    },
  };
}

/** Serves the routes of `module`'s handlers; resolves once listening, to a graceful close. */
async function serveGrpc(app: INestApplicationContext, module: DynamicModule, options: GrpcServiceOptions): Promise<() => Promise<void>> {
  const { services, metrics } = options;
  const routes = grpcRoutesOf(app, module, services, options.name);
  const packageDefinition = packageDefinitionFor(services);
  const audit = app.get(AuditRecorder, { strict: false });
  const pipeline = { guard: new AuthGuard(options.verifier), failures: new CallFailures(options.logger, audit, metrics), audit };
  const server = new Server({
    interceptors: [statusInterceptor(metrics)],
    // grpc-js's own cap, per server: the largest any of its methods takes; each method's own is checked before decoding.
    'grpc.max_receive_message_length': Math.max(...services.flatMap((service) => service.methods.map(maxRequestBytesOf))),
    // No server serves grpc.channelz.v1, so nobody could read the counters and timestamps grpc-js would keep per call and message.
    'grpc.enable_channelz': 0,
  });
  for (const route of routes) {
    const definition = (packageDefinition[route.service] as Record<string, MethodDefinition<unknown, unknown>>)[route.method];
    server.register(route.path, callHandler(route, pipeline), definition.responseSerialize, definition.requestDeserialize, route.kind);
  }
  new ReflectionService(packageDefinition).addToServer(server);
  options.health.addToServer(server);
  try {
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(options.url, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  return () => new Promise<void>((resolve, reject) => server.tryShutdown((error) => (error ? reject(error) : resolve())));
}

/** Health with the whole server (`""`) and each service NOT_SERVING until the server is up. */
export function createHealth(services: readonly DescService[]): HealthImplementation {
  return new HealthImplementation(
    Object.fromEntries(['', ...services.map((service) => service.typeName)].map((name) => [name, 'NOT_SERVING'])),
  );
}

/** Sets the health of the whole server and each of its services. */
export function setHealth(health: HealthImplementation, services: readonly DescService[], serving: boolean): void {
  for (const name of ['', ...services.map((service) => service.typeName)]) {
    health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
