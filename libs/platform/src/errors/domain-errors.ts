import { status } from '@grpc/grpc-js';

/** One wrong field of a request: its path (`tags[2].key`) and what is wrong with it. */
export interface FieldViolation {
  /** The field's path in the request, dotted, list indexes and map keys in brackets. */
  field: string;
  /** What is wrong with the field, for a person. */
  description: string;
  /** The violation's stable UPPER_SNAKE name, when it has one. */
  reason?: string;
}

/**
 * What a client can act on besides the message: the kit sends it as google.rpc.Status details
 * (see toGrpcError) and the gateway renders it in its JSON error body.
 */
export interface ErrorDetails {
  /**
   * The failure's stable name in UPPER_SNAKE_CASE (`RUN_NOT_FOUND`), which clients branch on and
   * which never changes; without it, the error's code name (`NOT_FOUND`).
   */
  reason?: string;
  /** The resource name of what the failure concerns (`projects/p1/models/churn`), as docs/api-style.md names resources. */
  resource?: string;
  /** More facts about the failure, as short strings (ErrorInfo metadata beside `resource`). */
  metadata?: Readonly<Record<string, string>>;
  /** The wrong fields of the request, one entry each. */
  violations?: readonly FieldViolation[];
  /** How long the caller should wait before a retry can succeed, in seconds, when known. */
  retryAfterSeconds?: number;
}

/** UPPER_SNAKE_CASE, as every reason is written. */
const REASON = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name])) as Record<number, string>;

/** The name of a gRPC status code (`5` -> `NOT_FOUND`): the reason of an error that names none of its own. */
export function codeName(code: status): string {
  return CODE_NAMES[code] ?? 'UNKNOWN';
}

/**
 * An error a caller can act on. Services throw these; the kit turns them into the matching gRPC
 * status with the message as written, so write the message for the person reading it, and its
 * details (a stable reason, the resource, field violations, a retry delay) for the program.
 */
export abstract class DomainError extends Error {
  /** The gRPC status code this error is answered with. */
  abstract readonly code: status;

  /** Throws when `details.reason` is not UPPER_SNAKE_CASE: reasons are API, checked where they are written. */
  constructor(
    message: string,
    /** The details as given (see the getters for what clients get). */
    readonly errorDetails: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
    const { reason } = errorDetails;
    if (reason !== undefined && !REASON.test(reason)) throw new Error(`error reason "${reason}" is not UPPER_SNAKE_CASE`);
  }

  /** The stable reason clients branch on: the one given, else the code's name (`NOT_FOUND`). */
  get reason(): string {
    return this.errorDetails.reason ?? codeName(this.code);
  }

  /** The resource name of what the failure concerns, when known. */
  get resource(): string | undefined {
    return this.errorDetails.resource;
  }

  /** The wrong fields of the request (empty unless it is INVALID_ARGUMENT). */
  get violations(): readonly FieldViolation[] {
    return this.errorDetails.violations ?? [];
  }

  /** How long the caller should wait before a retry, in seconds, when known. */
  get retryAfterSeconds(): number | undefined {
    return this.errorDetails.retryAfterSeconds;
  }
}

/** The named resource does not exist (or the caller may not know that it does). */
export class NotFoundError extends DomainError {
  readonly code = status.NOT_FOUND;
}

/** A resource with the same unique name already exists. */
export class AlreadyExistsError extends DomainError {
  readonly code = status.ALREADY_EXISTS;
}

/**
 * The request itself is wrong. `field` names the offending request field when there is one: the
 * message is prefixed with it, and it is the error's field violation (google.rpc.BadRequest).
 */
export class InvalidArgumentError extends DomainError {
  readonly code = status.INVALID_ARGUMENT;

  constructor(
    message: string,
    readonly field?: string,
    details: ErrorDetails = {},
  ) {
    super(field ? `${field}: ${message}` : message, field ? { ...details, violations: [{ field, description: message }, ...(details.violations ?? [])] } : details);
  }
}

/** The request is valid but the system is not in a state that allows it. */
export class FailedPreconditionError extends DomainError {
  readonly code = status.FAILED_PRECONDITION;
}

/** The caller is known but lacks the permission. */
export class PermissionDeniedError extends DomainError {
  readonly code = status.PERMISSION_DENIED;
}

/** The caller could not be identified: no, expired or invalid credentials. */
export class UnauthenticatedError extends DomainError {
  readonly code = status.UNAUTHENTICATED;
}

/**
 * A quota or rate limit was reached. `retryAfterSeconds`, when known, is how long the caller
 * should wait: clients get it as google.rpc.RetryInfo and as `retry-after` trailing metadata (and
 * the gateway as `Retry-After`).
 */
export class ResourceExhaustedError extends DomainError {
  readonly code = status.RESOURCE_EXHAUSTED;

  constructor(message: string, retryAfterSeconds?: number, details: ErrorDetails = {}) {
    super(message, retryAfterSeconds === undefined ? details : { ...details, retryAfterSeconds });
  }
}

/**
 * A dependency (database, message bus, another service) is not reachable right now; retry later,
 * after `details.retryAfterSeconds` when it is known.
 */
export class UnavailableError extends DomainError {
  readonly code = status.UNAVAILABLE;
}
