import { status } from '@grpc/grpc-js';
import { grpcToHttp, grpcToMlflow } from './status-mapping';

describe('gRPC status mapping', () => {
  it('answers each gRPC code with the HTTP status of the google.api mapping', () => {
    const table = Object.fromEntries(
      Object.entries(status)
        .filter(([, code]) => typeof code === 'number' && code !== status.OK)
        .map(([name, code]) => [name, grpcToHttp(code as number).httpStatus]),
    );
    expect(table).toEqual({
      CANCELLED: 499,
      UNKNOWN: 500,
      INVALID_ARGUMENT: 400,
      DEADLINE_EXCEEDED: 504,
      NOT_FOUND: 404,
      ALREADY_EXISTS: 409,
      PERMISSION_DENIED: 403,
      RESOURCE_EXHAUSTED: 429,
      FAILED_PRECONDITION: 400,
      ABORTED: 409,
      OUT_OF_RANGE: 400,
      UNIMPLEMENTED: 501,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      DATA_LOSS: 500,
      UNAUTHENTICATED: 401,
    });
    expect(grpcToHttp(status.NOT_FOUND).status).toBe('NOT_FOUND');
  });

  it("answers each gRPC code with MLflow's error code and its HTTP status", () => {
    expect(grpcToMlflow(status.ALREADY_EXISTS)).toEqual({ errorCode: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400 });
    expect(grpcToMlflow(status.NOT_FOUND)).toEqual({ errorCode: 'RESOURCE_DOES_NOT_EXIST', httpStatus: 404 });
    expect(grpcToMlflow(status.INVALID_ARGUMENT)).toEqual({ errorCode: 'INVALID_PARAMETER_VALUE', httpStatus: 400 });
    expect(grpcToMlflow(status.FAILED_PRECONDITION)).toEqual({ errorCode: 'INVALID_PARAMETER_VALUE', httpStatus: 400 });
    expect(grpcToMlflow(status.UNAUTHENTICATED)).toEqual({ errorCode: 'UNAUTHENTICATED', httpStatus: 401 });
    expect(grpcToMlflow(status.PERMISSION_DENIED)).toEqual({ errorCode: 'PERMISSION_DENIED', httpStatus: 403 });
    expect(grpcToMlflow(status.RESOURCE_EXHAUSTED)).toEqual({ errorCode: 'REQUEST_LIMIT_EXCEEDED', httpStatus: 429 });
    expect(grpcToMlflow(status.UNAVAILABLE)).toEqual({ errorCode: 'TEMPORARILY_UNAVAILABLE', httpStatus: 503 });
    expect(grpcToMlflow(status.INTERNAL)).toEqual({ errorCode: 'INTERNAL_ERROR', httpStatus: 500 });
    expect(grpcToMlflow(status.DATA_LOSS)).toEqual({ errorCode: 'INTERNAL_ERROR', httpStatus: 500 });
  });
});
