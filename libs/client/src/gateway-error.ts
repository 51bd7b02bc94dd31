/** One field the gateway refused, as its error body lists it. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** The gateway's JSON error body (every refused request answers one). */
export interface GatewayErrorBody {
  code: number;
  status: string;
  message: string;
  request_id?: string;
  reason?: string;
  domain?: string;
  metadata?: Record<string, string>;
  field_violations?: FieldViolation[];
  retry_delay_seconds?: number;
}

/**
 * A request the gateway refused, or could not be asked: `httpStatus` 0 when no answer came (the
 * address is wrong, or nothing listens there). `status` is the gRPC code's name (NOT_FOUND, ...),
 * `reason` the machine-readable reason (RUN_NOT_FOUND, ...) scripts can branch on.
 */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';

  constructor(
    message: string,
    readonly httpStatus: number,
    readonly status: string,
    readonly reason: string,
    readonly requestId?: string,
    readonly violations: readonly FieldViolation[] = [],
    readonly metadata: Readonly<Record<string, string>> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** The error of a JSON error body the gateway answered with `httpStatus`. */
  static fromBody(httpStatus: number, body: GatewayErrorBody): GatewayRequestError {
    const violations = body.field_violations ?? [];
    const fields = violations.map((violation) => `${violation.field}: ${violation.description}`);
    const message = [body.message, ...fields.filter((field) => !body.message.includes(field))].join('; ');
    return new GatewayRequestError(message, httpStatus, body.status, body.reason ?? body.status, body.request_id, violations, body.metadata, body.retry_delay_seconds);
  }

  /** The error of an answer that is not the gateway's error body (a proxy's page, say). */
  static fromText(httpStatus: number, text: string): GatewayRequestError {
    const status = STATUS_OF_HTTP[httpStatus] ?? 'UNKNOWN';
    const shown = text.trim().slice(0, 200);
    return new GatewayRequestError(`HTTP ${httpStatus}${shown ? `: ${shown}` : ''}`, httpStatus, status, status);
  }

  /** The error of a request that got no answer at all. */
  static unreachable(url: string, cause: unknown): GatewayRequestError {
    // Not `instanceof Error`: fetch's errors may come from another realm (a test runner's).
    const failure = cause as { message?: unknown; cause?: { code?: unknown } } | undefined;
    const why = String(failure?.cause?.code ?? failure?.message ?? cause);
    return new GatewayRequestError(`cannot reach the gateway at ${url} (${why}): is Trellis running there?`, 0, 'UNAVAILABLE', 'GATEWAY_UNREACHABLE');
  }
}

/** What a bare HTTP status means when no error body says more. */
const STATUS_OF_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'RESOURCE_EXHAUSTED',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
