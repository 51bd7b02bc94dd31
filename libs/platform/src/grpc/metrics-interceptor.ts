import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import type { Metrics } from '../ops/metrics';
import { CODE_NAMES } from './call-pipeline';
import { grpcMethodOf } from './method-path';

/**
 * A grpc-js server interceptor that records every call's status and duration, whatever answered
 * it (a handler, the auth guard, health, reflection, or UNIMPLEMENTED), at the transport level.
 */
export function metricsInterceptor(metrics: Metrics): ServerInterceptor {
  return (method, call) => {
    const startedAt = process.hrtime.bigint();
    const { service, method: name } = grpcMethodOf(method.path);
    return new ServerInterceptingCall(call, {
      sendStatus: (status, next) => {
        metrics.observeCall(service, name, CODE_NAMES[status.code] ?? String(status.code), startedAt);
        next(status);
      },
    });
  };
}
