import { Metadata, type ServiceError, type status } from '@grpc/grpc-js';
import { statusDetailsOf, type FieldViolation, type StatusDetails } from '../errors';

/**
 * A failed call as the kit's gRPC client throws it: grpc-js's ServiceError (`code`, `details`,
 * `metadata`, its message unchanged) with the google.rpc.Status details the server sent in
 * `grpc-status-details-bin` decoded. A failure the server sent no details with (a status from
 * another server, a deadline, a lost connection) has no reason or domain.
 */
export class GrpcCallError extends Error implements ServiceError {
  override name = 'GrpcCallError';
  /** The gRPC status code. */
  readonly code: status;
  /** The status message, as the server wrote it (`grpc-message`). */
  readonly details: string;
  /** The trailing metadata (`x-request-id`, `retry-after`, `grpc-status-details-bin`). */
  readonly metadata: Metadata;
  /** The decoded details, when the server sent them. */
  readonly statusDetails: StatusDetails | undefined;

  constructor(error: ServiceError) {
    super(error.message);
    this.stack = error.stack;
    this.code = error.code;
    this.details = error.details;
    this.metadata = error.metadata ?? new Metadata();
    this.statusDetails = statusDetailsOf(this.metadata);
  }

  /** The failure's stable UPPER_SNAKE reason (`RUN_NOT_FOUND`), which a program may branch on. */
  get reason(): string | undefined {
    return this.statusDetails?.reason || undefined;
  }

  /** Who decided the failure: `<service>.trellis`. */
  get domain(): string | undefined {
    return this.statusDetails?.domain || undefined;
  }

  /** The resource name of what the failure concerns (`runs/r1`), when the server named one. */
  get resource(): string | undefined {
    return this.statusDetails?.resource;
  }

  /** The wrong fields of the request (INVALID_ARGUMENT), one entry each. */
  get violations(): readonly FieldViolation[] {
    return this.statusDetails?.violations ?? [];
  }

  /** How long to wait before a retry can succeed, in seconds, when the server said. */
  get retryAfterSeconds(): number | undefined {
    return this.statusDetails?.retryAfterSeconds;
  }
}

/** What the client throws for `error`: a GrpcCallError for a failed call, anything else as it is. */
export function callErrorOf(error: unknown): unknown {
  return isServiceError(error) && !(error instanceof GrpcCallError) ? new GrpcCallError(error) : error;
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && typeof (error as Partial<ServiceError>).details === 'string';
}
