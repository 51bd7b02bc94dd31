import { status, type Metadata } from '@grpc/grpc-js';
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { from, mergeMap, throwError, type Observable } from 'rxjs';
import { callContextOf } from '../auth/call-context';
import { AuditRecorder, refusalOf } from '../audit/audit-recorder';
import { auditedCall } from '../audit/audit.interceptor';
import { RateLimiter } from '../auth/rate-limiter';
import { grpcMethodOf } from './method-path';
import { toGrpcError } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';

/** The part of every server call the kit reads. */
type ServerSurfaceCall = { getPath(): string };

/** gRPC status names by code, as Prometheus labels and logs show them. */
export const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name])) as Record<number, string>;

/**
 * Answers every error of a gRPC call with a status a client can act on (see toGrpcError),
 * logs unexpected ones with their stack and request id, and audits refused calls (see refusalOf).
 */
@Catch()
export class GrpcExceptionFilter implements ExceptionFilter {
  private readonly deniedAudits = new RateLimiter({ ratePerSecond: 50, burst: 200 });

  constructor(
    private readonly logger: Logger,
    private readonly audit: AuditRecorder,
    private readonly metrics: Metrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const metadata = host.switchToRpc().getContext<Metadata>();
    const call = callContextOf(metadata);
    const { service, method, full } = grpcMethodOf(host.getArgByIndex<ServerSurfaceCall | undefined>(2)?.getPath());
    const error = toGrpcError(exception, call.requestId, (unexpected, requestId) =>
      this.logger.error({ err: unexpected, requestId, service, method }, 'unexpected error in gRPC handler'),
    );
    this.logger.debug({ requestId: call.requestId, service, method, code: CODE_NAMES[error.code] }, error.details);
    const refusal = refusalOf(exception, error);
    if (refusal !== undefined) {
      // Denied calls cost a write each: past a generous rate per address they are counted, not recorded.
      if (!this.deniedAudits.take(call.clientAddress.replace(/:\d+$/, ''))) {
        this.metrics.deniedCallsUnaudited.inc();
        return throwError(() => error);
      }
      return from(this.audit.denied(auditedCall(call, full), refusal)).pipe(mergeMap(() => throwError(() => error)));
    }
    return throwError(() => error);
  }
}
