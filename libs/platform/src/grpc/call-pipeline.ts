import { status, type Metadata } from '@grpc/grpc-js';
import {
  Catch,
  Injectable,
  type ArgumentsHost,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { tap, throwError, type Observable } from 'rxjs';
import { callContextOf } from '../auth/call-context';
import { toGrpcError } from '../errors';
import type { Logger } from '../ops/logger';
import { Metrics } from '../ops/metrics';

/** The part of every server call the kit reads. */
type ServerSurfaceCall = { getPath(): string };

const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name])) as Record<number, string>;

/** Records metrics of calls that succeed; failures are recorded by GrpcExceptionFilter. */
@Injectable()
export class CallMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>();
    const call = context.getArgByIndex<ServerSurfaceCall | undefined>(2);
    return next.handle().pipe(
      tap({
        complete: () => {
          const [service, method] = splitPath(call);
          this.metrics.observeCall(service, method, 'OK', callContextOf(metadata).startedAt);
        },
      }),
    );
  }
}

/**
 * Answers every error of a gRPC call with a status a client can act on (see toGrpcError),
 * logs unexpected ones with their stack and request id, and records the failed call's metrics.
 */
@Catch()
export class GrpcExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const metadata = host.switchToRpc().getContext<Metadata>();
    const call = callContextOf(metadata);
    const [service, method] = splitPath(host.getArgByIndex<ServerSurfaceCall | undefined>(2));
    const error = toGrpcError(exception, call.requestId, (unexpected, requestId) =>
      this.logger.error({ err: unexpected, requestId, service, method }, 'unexpected error in gRPC handler'),
    );
    this.logger.debug({ requestId: call.requestId, service, method, code: CODE_NAMES[error.code] }, error.details);
    this.metrics.observeCall(service, method, CODE_NAMES[error.code] ?? String(error.code), call.startedAt);
    return throwError(() => error);
  }
}

function splitPath(call: ServerSurfaceCall | undefined): [string, string] {
  const path = call?.getPath?.() ?? '/unknown/unknown';
  const slash = path.lastIndexOf('/');
  return [path.slice(1, slash), path.slice(slash + 1)];
}
