import { InvalidPartError, PluginError, InvalidRangeError, ObjectNotFoundError, UploadNotFoundError } from '@trellis/plugin-sdk';

/** What the SDK's service exceptions carry that the mapping reads. */
interface S3Failure {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The S3 error code of `error` (`NoSuchKey`, `InvalidPart`...), or its name for errors that are not S3's. */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const failure = error as S3Failure;
  return failure.Code ?? failure.name;
}

/** Whether `error` says the object, bucket or upload does not exist (S3 answers HEAD with a bare 404). */
export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'NotFound' || code === 'NoSuchKey' || (error as S3Failure | undefined)?.$metadata?.httpStatusCode === 404;
}

/**
 * The contract's error for an S3 failure of `operation` on `key`, or an Error naming the bucket and
 * the operation for anything else (the backend failing). Never carries the request, so never a credential.
 */
export function storageError(error: unknown, bucket: string, operation: string, key?: string, uploadId?: string): Error {
  const code = s3ErrorCode(error);
  // The contract's own errors and aborts pass through unchanged.
  if (error instanceof PluginError || (error instanceof Error && error.name === 'AbortError')) return error;
  switch (code) {
    case 'NoSuchKey':
      return new ObjectNotFoundError(key ?? '');
    case 'NoSuchUpload':
      return new UploadNotFoundError(key ?? '', uploadId ?? '');
    case 'InvalidPart':
    case 'InvalidPartOrder':
    case 'EntityTooSmall':
      return new InvalidPartError(`S3 refused the parts of upload ${JSON.stringify(uploadId ?? '')}: ${code}: ${messageOf(error)}`);
    case 'InvalidRange':
      return new InvalidRangeError(key ?? '', messageOf(error));
  }
  const what = key === undefined ? '' : ` of ${JSON.stringify(key)}`;
  return new Error(`storage-s3: ${operation}${what} in bucket ${JSON.stringify(bucket)} failed: ${code ?? 'error'}: ${messageOf(error)}`);
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}
