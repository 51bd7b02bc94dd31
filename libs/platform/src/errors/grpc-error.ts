import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { PluginErrorCode } from '@trellis/plugin-sdk';
import { isDatabaseUnavailable } from '../persistence/database-unavailable';
import { codeName, DomainError } from './domain-errors';
import { setStatusDetails, statusDetailsOf, type StatusDetails } from './status-details';

/** How plugin errors (matched by code: a plugin may bundle its own SDK copy) answer on the wire. */
const PLUGIN_ERROR_CODES: Partial<Record<PluginErrorCode, status>> = {
  OBJECT_NOT_FOUND: status.NOT_FOUND,
  UPLOAD_NOT_FOUND: status.NOT_FOUND,
  JOB_NOT_FOUND: status.NOT_FOUND,
  INVALID_KEY: status.INVALID_ARGUMENT,
  INVALID_RANGE: status.OUT_OF_RANGE,
  INVALID_PART: status.INVALID_ARGUMENT,
  // Stored data that fails its integrity check, or whose key is gone, is lost data, not a bad request.
  OBJECT_INTEGRITY: status.DATA_LOSS,
  KEY_NOT_FOUND: status.FAILED_PRECONDITION,
  INVALID_WRAPPED_KEY: status.DATA_LOSS,
};

/** What grpc-js needs to answer a call with a status: a code, details, and trailing metadata. */
export type GrpcStatusError = Pick<ServiceError, 'code' | 'details' | 'metadata' | 'message'>;

/** Reports an unexpected error with its stack; never reaches the wire. */
export type UnexpectedErrorReporter = (error: unknown, requestId: string) => void;

/** The call an error answers. */
export interface FailedCall {
  /** Sent back as `x-request-id`, and named in INTERNAL's message. */
  requestId: string;
  /** The ErrorInfo domain of the service that answers: `<service>.trellis`. */
  domain: string;
}

/**
 * Turns anything a handler threw into a gRPC status whose trailing metadata carries its
 * google.rpc.Status details (see setStatusDetails): an ErrorInfo with a stable reason and the
 * call's domain, the resource, field violations and a retry delay where known. Domain errors keep
 * their code, message and details; plugin errors answer with their stable code as the reason;
 * errors that already carry a gRPC code (from a downstream call) pass through with the
 * downstream's details; a database that is restarting or out of reach is UNAVAILABLE, so clients
 * retry; anything else becomes INTERNAL with only the request id on the wire, and is reported
 * with its stack.
 */
export function toGrpcError(error: unknown, call: FailedCall, report: UnexpectedErrorReporter): GrpcStatusError {
  const { requestId, domain } = call;
  const answer = (code: status, message: string, details: Partial<StatusDetails> & { reason: string }): GrpcStatusError => {
    const metadata = new Metadata();
    metadata.set('x-request-id', requestId);
    setStatusDetails(metadata, code, message, { domain, metadata: {}, violations: [], ...details });
    return { code, details: message, message, metadata };
  };
  if (error instanceof DomainError) {
    const { reason, resource, violations, retryAfterSeconds } = error;
    return answer(error.code, error.message, { reason, resource, metadata: error.errorDetails.metadata ?? {}, violations, retryAfterSeconds });
  }
  const pluginCode = error instanceof Error ? (error as { code?: PluginErrorCode }).code : undefined;
  const pluginStatus = pluginCode === undefined ? undefined : PLUGIN_ERROR_CODES[pluginCode];
  if (pluginCode !== undefined && pluginStatus !== undefined) return answer(pluginStatus, (error as Error).message, { reason: pluginCode });
  if (isUniqueViolation(error)) {
    // Two creates raced past the service's own existence check; the database kept one.
    return answer(status.ALREADY_EXISTS, 'a resource with the same unique name was created at the same time; read it, or retry with another name', {
      reason: 'CONCURRENT_CREATE',
    });
  }
  const rejectedValue = valueRejectedByDatabase(error);
  if (rejectedValue) {
    // Input the service's own checks let through but the database cannot hold (an edited page token, a NUL character).
    return answer(status.INVALID_ARGUMENT, `a value of the request cannot be stored or compared: ${rejectedValue}`, { reason: 'VALUE_NOT_STORABLE' });
  }
  if (isGrpcStatus(error)) {
    const downstream = error.metadata instanceof Metadata ? statusDetailsOf(error.metadata) : undefined;
    return answer(error.code, error.details, downstream?.reason ? downstream : { reason: codeName(error.code) });
  }
  if (isDatabaseUnavailable(error)) {
    // A restarting or unreachable database: nothing is wrong with the call, so the client retries it.
    const message = `the service's database is unavailable right now (restarting or out of reach); retry the call (request id ${requestId})`;
    return answer(status.UNAVAILABLE, message, { reason: 'DATABASE_UNAVAILABLE' });
  }
  report(error, requestId);
  return answer(status.INTERNAL, `internal error (request id ${requestId}); the server log has the details`, { reason: 'INTERNAL' });
}

function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: unknown } } | null)?.driverError;
  // PostgreSQL's unique_violation, and better-sqlite3's unique and primary-key constraint codes.
  return driverError?.code === '23505' || driverError?.code === 'SQLITE_CONSTRAINT_UNIQUE' || driverError?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** PostgreSQL's data exceptions that only a value sent by the client can cause, by SQLSTATE. */
const VALUE_ERRORS = new Set([
  '22P02', // invalid_text_representation: "x" where a number goes
  '22003', // numeric_value_out_of_range
  '22021', // character_not_in_repertoire: a NUL character in text
  '22001', // string_data_right_truncation: longer than the column
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
]);

function valueRejectedByDatabase(error: unknown): string | undefined {
  const driverError = (error as { driverError?: { code?: unknown; message?: unknown } } | null)?.driverError;
  if (typeof driverError?.code !== 'string' || !VALUE_ERRORS.has(driverError.code)) return undefined;
  return typeof driverError.message === 'string' ? driverError.message : driverError.code;
}

function isGrpcStatus(error: unknown): error is { code: status; details: string; metadata?: unknown } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, details } = error as { code?: unknown; details?: unknown };
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16 && typeof details === 'string';
}
