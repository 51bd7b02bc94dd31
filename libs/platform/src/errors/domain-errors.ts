import { status } from '@grpc/grpc-js';

/**
 * An error a caller can act on. Services throw these; the kit turns them into the matching gRPC
 * status with the message as written, so write the message for the person reading it.
 */
export abstract class DomainError extends Error {
  /** The gRPC status code this error is answered with. */
  abstract readonly code: status;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
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

/** The request itself is wrong; `field` names the offending request field when there is one. */
export class InvalidArgumentError extends DomainError {
  readonly code = status.INVALID_ARGUMENT;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
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
 * should wait: clients get it as `retry-after` trailing metadata (and the gateway as `Retry-After`).
 */
export class ResourceExhaustedError extends DomainError {
  readonly code = status.RESOURCE_EXHAUSTED;
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A dependency (database, message bus, another service) is not reachable right now; retry later. */
export class UnavailableError extends DomainError {
  readonly code = status.UNAVAILABLE;
}
