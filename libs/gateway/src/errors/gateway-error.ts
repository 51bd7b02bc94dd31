import { Metadata, status } from '@grpc/grpc-js';
import { GrpcCallError, statusDetailsOf, type StatusDetails } from '@trellis/platform';

/**
 * An error a route answers with: a gRPC code (what the error means, whoever raised it) and a
 * message for the user. `httpStatus` overrides the status the code maps to, for what only HTTP
 * has words for (405, 413, 415). `retryAfterSeconds` is what a 429 tells the client to wait, when
 * the limit that refused it said. `details` are the google.rpc.Status details an upstream service
 * sent (reason, domain, resource, field violations), which the gateway's JSON error body shows.
 */
export class GatewayError extends Error {
  override name = 'GatewayError';

  constructor(
    readonly code: status,
    message: string,
    readonly httpStatus?: number,
    readonly retryAfterSeconds?: number,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
}

/** Raises a 400 INVALID_ARGUMENT. */
export function badRequest(message: string): GatewayError {
  return new GatewayError(status.INVALID_ARGUMENT, message);
}

/**
 * The GatewayError of anything a handler threw: gateway errors as they are, gRPC errors of an
 * upstream call with their code and details, anything else as INTERNAL naming only the request id
 * (`onUnexpected` gets the original, to log it with its stack).
 */
export function toGatewayError(error: unknown, requestId: string, onUnexpected: (error: unknown) => void): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isGrpcError(error)) return new GatewayError(error.code, error.details, undefined, retryAfterOf(error), upstreamDetailsOf(error));
  onUnexpected(error);
  return new GatewayError(status.INTERNAL, `internal error (request id ${requestId}); the gateway log has the details`);
}

/** The google.rpc.Status details an upstream call's error carries, decoded, when it has any. */
export function upstreamDetailsOf(error: unknown): StatusDetails | undefined {
  if (error instanceof GrpcCallError) return error.statusDetails;
  const metadata = (error as { metadata?: unknown } | null)?.metadata;
  return metadata instanceof Metadata ? statusDetailsOf(metadata) : undefined;
}

/** The seconds an upstream's `retry-after` trailing metadata asks a refused caller to wait, when it is a sane number. */
export function retryAfterOf(error: unknown): number | undefined {
  const metadata = (error as { metadata?: unknown } | null)?.metadata;
  if (!(metadata instanceof Metadata)) return undefined;
  const [value] = metadata.get('retry-after');
  return typeof value === 'string' && /^[1-9]\d{0,5}$/.test(value) ? Number(value) : undefined;
}

function isGrpcError(error: unknown): error is { code: status; details: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, details } = error as { code?: unknown; details?: unknown };
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16 && typeof details === 'string';
}
