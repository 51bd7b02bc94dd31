import type { CallContext } from '../auth/call-context';
import { AuditRecorder, refusalOf } from '../audit/audit-recorder';
import { auditedCall } from '../audit/audit.interceptor';
import { RateLimiter } from '../auth/rate-limiter';
import { toGrpcError, type GrpcStatusError } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { CODE_NAMES } from './grpc-status';

/** The method a failed call was made to, as logs and audit records name it. */
export interface FailedMethod {
  /** `package.Service`. */
  service: string;
  /** `Method`. */
  method: string;
  /** `package.Service/Method`. */
  full: string;
  /** The ErrorInfo domain its errors carry: `<service>.trellis`. */
  domain: string;
}

/**
 * Answers every error of a gRPC call with a status a client can act on (see toGrpcError),
 * logs unexpected ones with their stack and request id, and audits refused calls (see refusalOf).
 */
export class CallFailures {
  private readonly deniedAudits = new RateLimiter({ ratePerSecond: 50, burst: 200 });

  constructor(
    private readonly logger: Logger,
    private readonly audit: AuditRecorder,
    private readonly metrics: Metrics,
  ) {}

  /** The status to answer `exception` with, once a refused call is recorded; never rejects. */
  async answer(exception: unknown, call: CallContext, method: FailedMethod): Promise<GrpcStatusError> {
    const { service, method: name, full, domain } = method;
    const error = toGrpcError(exception, { requestId: call.requestId, domain }, (unexpected, requestId) =>
      this.logger.error({ err: unexpected, requestId, service, method: name }, 'unexpected error in gRPC handler'),
    );
    this.logger.debug({ requestId: call.requestId, service, method: name, code: CODE_NAMES[error.code] }, error.details);
    const refusal = refusalOf(exception, error);
    if (refusal === undefined) return error;
    // Denied calls cost a write each: past a generous rate per address they are counted, not recorded.
    if (!this.deniedAudits.take(call.clientAddress.replace(/:\d+$/, ''))) {
      this.metrics.deniedCallsUnaudited.inc();
      return error;
    }
    await this.audit.denied(auditedCall(call, full), refusal);
    return error;
  }
}
