import type { DescService } from '@bufbuild/protobuf';
import type { ChannelOptions, Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import type { Metrics } from '../ops/metrics';
import { limitsInterceptor } from './limits-interceptor';
import { metricsInterceptor } from './metrics-interceptor';
import { packageDefinitionFor } from './package-definition';
import { maxRequestBytesOf } from './request-limits';

/**
 * The gRPC server options of one service: its protobuf-es services as a package definition,
 * plus `grpc.health.v1.Health` and server reflection (v1 and v1alpha) on the same port.
 * Requests over their method's size or field limits are refused before any handler sees them
 * (see requestDecoder). Shutdown is graceful: in-flight calls finish before the server closes.
 */
export function grpcServerOptions(options: {
  services: readonly DescService[];
  url: string;
  health: HealthImplementation;
  metrics: Metrics;
}): GrpcOptions {
  const packageDefinition = packageDefinitionFor(options.services);
  const maxRequestBytes = Math.max(...options.services.flatMap((service) => service.methods.map(maxRequestBytesOf)));
  return {
    transport: Transport.GRPC,
    options: {
      url: options.url,
      package: [...new Set(options.services.map((service) => service.file.proto.package))],
      packageDefinition,
      gracefulShutdown: true,
      // NestJS passes channelOptions to the grpc-js Server constructor, which takes interceptors;
      // the last is outermost, so the metrics see the limits' answers.
      channelOptions: { interceptors: [metricsInterceptor(options.metrics), limitsInterceptor()] } as ChannelOptions,
      // grpc-js's own cap, per server: the largest any of its methods takes; each method's own is checked before decoding.
      maxReceiveMessageLength: maxRequestBytes,
      onLoadPackageDefinition: (_definition: unknown, server: Pick<Server, 'addService'>) => {
        new ReflectionService(packageDefinition).addToServer(server);
        options.health.addToServer(server);
      },
    },
  };
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
