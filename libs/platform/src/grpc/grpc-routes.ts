import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { isAudited } from '../audit/audit.interceptor';
import type { GuardedMethod } from '../auth/auth.guard';
import { grpcHandlersOf } from '../service/permission-check';
import type { FailedMethod } from './call-pipeline';

/** How grpc-js runs a method: one request or a stream of them, one answer or a stream. */
export type GrpcMethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/**
 * One gRPC method of a service and its handler, with everything the kit needs per call worked
 * out when the server starts: its path, metric and log names, permission and audit mark.
 */
export interface GrpcRoute extends GuardedMethod, FailedMethod {
  descriptor: DescMethod;
  /** `/package.Service/Method`, what grpc-js routes by. */
  path: string;
  kind: GrpcMethodKind;
  /** Whether a successful call is audited (see AuditInterceptor). */
  audited: boolean;
  /**
   * The controller's handler, bound to its instance: called as Nest called it, with the request
   * (an Observable of requests for client streams), the call's metadata and the grpc-js call.
   */
  invoke(request: unknown, metadata: Metadata, call: unknown): unknown;
}

/**
 * The routes of every method of `services`, each to the handler a controller of `module`
 * declares for it (`@GrpcMethod`, or `@GrpcStreamMethod` for client streams), on the instances
 * `app` made; their errors carry the ErrorInfo domain `<serviceName>.trellis`. Throws, naming the method, when a handler is missing, declares no permission, or
 * takes its requests in a way the method cannot give them.
 */
export function grpcRoutesOf(app: INestApplicationContext, module: DynamicModule, services: readonly DescService[], serviceName: string): GrpcRoute[] {
  const handlers = grpcHandlersOf(module, services);
  const domain = `${serviceName}.trellis`;
  return services.flatMap((service) =>
    service.methods.map((descriptor): GrpcRoute => {
      const full = `${service.typeName}/${descriptor.name}`;
      const handler = handlers.get(`${service.name}/${descriptor.name}`);
      if (!handler?.requirement) throw new Error(`refusing to start: ${full} has no handler that declares a permission`);
      const kind = kindOf(descriptor);
      const streamsRequests = kind === 'clientStream' || kind === 'bidi';
      if (handler.streaming !== (streamsRequests ? 'rx_stream' : 'no_stream')) {
        throw new Error(
          `refusing to start: ${full} ${streamsRequests ? 'takes a stream of requests: declare its handler with @GrpcStreamMethod' : 'takes one request: declare its handler with @GrpcMethod'}`,
        );
      }
      const instance = app.get<object, Record<string, (...args: unknown[]) => unknown>>(handler.controller, { strict: false });
      const method = instance[handler.key];
      const { requirement } = handler;
      return {
        descriptor,
        path: `/${full}`,
        kind,
        service: service.typeName,
        method: descriptor.name,
        full,
        domain,
        requirement,
        call: { method: full, action: 'action' in requirement ? requirement.action : '' },
        audited: isAudited(method),
        invoke: method.bind(instance),
      };
    }),
  );
}

function kindOf(method: DescMethod): GrpcMethodKind {
  switch (method.methodKind) {
    case 'server_streaming':
      return 'serverStream';
    case 'client_streaming':
      return 'clientStream';
    case 'bidi_streaming':
      return 'bidi';
    default:
      return 'unary';
  }
}
