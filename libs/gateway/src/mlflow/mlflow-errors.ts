import { status } from '@grpc/grpc-js';
import { excerpt } from '@trellis/platform';
import { GatewayError } from '../errors/gateway-error';
import { grpcToMlflow } from '../errors/status-mapping';
import type { ErrorRenderer } from '../http/request-context';

/** An error that only MLflow has a code for (ENDPOINT_NOT_FOUND), with its own HTTP status. */
export class MlflowError extends GatewayError {
  constructor(
    code: status,
    readonly errorCode: string,
    message: string,
    httpStatus: number,
  ) {
    super(code, message, httpStatus);
  }
}

/** 400 INVALID_PARAMETER_VALUE. */
export function invalidParameter(message: string): GatewayError {
  return new GatewayError(status.INVALID_ARGUMENT, message);
}

/**
 * 400 INVALID_PARAMETER_VALUE for a field of the wrong type or out of range, worded as MLflow's
 * handlers word it: the value as Python's `json.dumps` writes it (at most a short prefix), the
 * field, and the Python type of what was sent.
 */
export function invalidValue(value: unknown, field: string): GatewayError {
  return invalidParameter(
    `Invalid value ${excerpt(pythonJson(value))} for parameter '${field}' supplied:  Hint: Value was of type '${pythonType(value)}'. See the API docs for more information about request parameters.`,
  );
}

/** JSON as `json.dumps(value, sort_keys=True, separators=(",", ":"))` writes it: sorted keys, no spaces, non-ASCII escaped. */
function pythonJson(value: unknown): string {
  const sorted = (item: unknown): unknown =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, sorted((item as Record<string, unknown>)[key])]))
      : Array.isArray(item)
        ? item.map(sorted)
        : item;
  return (JSON.stringify(sorted(value)) ?? 'null').replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The name of the Python type `json.loads` makes of a JSON value. */
function pythonType(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return { string: 'str', boolean: 'bool', object: 'dict' }[typeof value as string] ?? typeof value;
}

/** 400 INVALID_PARAMETER_VALUE for a required field that is absent, worded as MLflow words it. */
export function missingParameter(field: string): GatewayError {
  return invalidParameter(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
}

/** 404 ENDPOINT_NOT_FOUND for a path under an MLflow prefix that names no endpoint. */
export function endpointNotFound(method: string, path: string): MlflowError {
  return new MlflowError(status.NOT_FOUND, 'ENDPOINT_NOT_FOUND', `no MLflow endpoint ${method} ${path}`, 404);
}

/**
 * MLflow's error body, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`, with the status
 * grpcToMlflow gives the code. A body over a route's limit (413) answers as MLflow answers an
 * oversized batch, 400 INVALID_PARAMETER_VALUE: the Python client retries 429 and 5xx, never 400.
 */
export const renderMlflowError: ErrorRenderer = (error) => {
  if (error instanceof MlflowError) return { status: error.httpStatus ?? 500, body: { error_code: error.errorCode, message: error.message } };
  if (error.httpStatus === 413) return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: error.message } };
  const { errorCode, httpStatus } = grpcToMlflow(error.code);
  return { status: error.httpStatus ?? httpStatus, body: { error_code: errorCode, message: error.message } };
};
