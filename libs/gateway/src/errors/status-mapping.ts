import { status } from '@grpc/grpc-js';

/** gRPC status names by code (`5` -> `NOT_FOUND`), as error bodies name them. */
export const GRPC_STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(status)
    .filter(([, code]) => typeof code === 'number')
    .map(([name, code]) => [code, name]),
);

/** HTTP status of each gRPC code, as google.api's HTTP mapping (and grpc-gateway) answers it. */
const HTTP_STATUS: Readonly<Record<number, number>> = {
  [status.OK]: 200,
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 400,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
};

/** The HTTP status and status name that answer a gRPC code on the gateway's own routes. */
export function grpcToHttp(code: number): { httpStatus: number; status: string } {
  return { httpStatus: HTTP_STATUS[code] ?? 500, status: GRPC_STATUS_NAMES[code] ?? 'UNKNOWN' };
}

/** MLflow's error codes with their HTTP statuses (MLflow's `ERROR_CODE_TO_HTTP_STATUS`). */
const MLFLOW_ERRORS: Readonly<Record<number, { errorCode: string; httpStatus: number }>> = {
  [status.INVALID_ARGUMENT]: { errorCode: 'INVALID_PARAMETER_VALUE', httpStatus: 400 },
  [status.FAILED_PRECONDITION]: { errorCode: 'INVALID_PARAMETER_VALUE', httpStatus: 400 },
  [status.OUT_OF_RANGE]: { errorCode: 'INVALID_PARAMETER_VALUE', httpStatus: 400 },
  // MLflow answers an existing resource with 400, not 409.
  [status.ALREADY_EXISTS]: { errorCode: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400 },
  [status.NOT_FOUND]: { errorCode: 'RESOURCE_DOES_NOT_EXIST', httpStatus: 404 },
  [status.UNAUTHENTICATED]: { errorCode: 'UNAUTHENTICATED', httpStatus: 401 },
  [status.PERMISSION_DENIED]: { errorCode: 'PERMISSION_DENIED', httpStatus: 403 },
  [status.RESOURCE_EXHAUSTED]: { errorCode: 'REQUEST_LIMIT_EXCEEDED', httpStatus: 429 },
  [status.ABORTED]: { errorCode: 'ABORTED', httpStatus: 409 },
  [status.CANCELLED]: { errorCode: 'CANCELLED', httpStatus: 499 },
  [status.UNIMPLEMENTED]: { errorCode: 'NOT_IMPLEMENTED', httpStatus: 501 },
  [status.UNAVAILABLE]: { errorCode: 'TEMPORARILY_UNAVAILABLE', httpStatus: 503 },
  [status.DEADLINE_EXCEEDED]: { errorCode: 'DEADLINE_EXCEEDED', httpStatus: 504 },
};

/**
 * The MLflow `error_code` and HTTP status that answer a gRPC code on MLflow routes, so the stock
 * MLflow client raises the exception it would against an MLflow server.
 */
export function grpcToMlflow(code: number): { errorCode: string; httpStatus: number } {
  return MLFLOW_ERRORS[code] ?? { errorCode: 'INTERNAL_ERROR', httpStatus: 500 };
}
