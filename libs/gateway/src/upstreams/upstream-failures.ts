import { InterceptingCall, status, type Interceptor } from '@grpc/grpc-js';
import { RateLimiter, type Logger, type RateLimit } from '@trellis/platform';
import { GRPC_STATUS_NAMES } from '../errors/status-mapping';
import type { UpstreamName } from './upstream-health';

/** Statuses that say the upstream failed (down, too slow, broken), not that it refused the request. */
const FAILURES = new Set<number>([status.UNKNOWN, status.DEADLINE_EXCEEDED, status.INTERNAL, status.UNAVAILABLE, status.DATA_LOSS]);

/** Ten lines per upstream at once, then one a second: an outage shows without flooding the log. */
const LINES_PER_UPSTREAM: RateLimit = { ratePerSecond: 1, burst: 10 };

/** One call an upstream failed. */
export interface UpstreamFailure {
  upstream: UpstreamName;
  /** The gRPC method's path: `/trellis.tracking.v1.RunService/GetRun`. */
  method: string;
  requestId: string;
  code: number;
  details: string;
}

/**
 * Logs each call an upstream failed at warn, naming the upstream, its address, the method and the
 * request id, so an operator sees an outage at the default log level. Lines are rate-limited per
 * upstream; failures past the limit are counted, and the next line says how many (`suppressed`).
 */
export class UpstreamFailureLog {
  private readonly limiter: RateLimiter;
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    limit: RateLimit = LINES_PER_UPSTREAM,
    now?: () => number,
  ) {
    this.limiter = new RateLimiter(limit, 1000, now);
  }

  /** A client interceptor that records every call to `upstream` (see record). */
  interceptor(upstream: UpstreamName): Interceptor {
    return (options, nextCall) =>
      new InterceptingCall(nextCall(options), {
        start: (metadata, _listener, next) => {
          const requestId = String(metadata.get('x-request-id')[0] ?? '');
          next(metadata, {
            onReceiveStatus: (received, nextStatus) => {
              this.record({ upstream, method: options.method_definition.path, requestId, code: received.code, details: received.details });
              nextStatus(received);
            },
          });
        },
      });
  }

  /** Logs `call` when its status is a failure of the upstream (within the rate); other statuses are ignored. */
  record({ upstream, method, requestId, code, details }: UpstreamFailure): void {
    if (!FAILURES.has(code)) return;
    if (!this.limiter.take(upstream.owner)) {
      this.suppressed.set(upstream.owner, (this.suppressed.get(upstream.owner) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(upstream.owner);
    this.suppressed.delete(upstream.owner);
    const codeName = GRPC_STATUS_NAMES[code] ?? String(code);
    this.logger.warn(
      { upstream: upstream.owner, address: upstream.address, method, requestId, code: codeName, ...(suppressed ? { suppressed } : {}) },
      `${method} failed at the ${upstream.owner} service with ${codeName}: ${details}`,
    );
  }
}
