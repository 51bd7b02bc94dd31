import { S3Client } from '@aws-sdk/client-s3';

/** What of an instance's config the client needs. */
export interface S3ClientSettings {
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/** The SDK client of an instance's config. */
export function s3ClientFor(config: S3ClientSettings): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle,
    // A copy: the SDK marks the credentials object it is given, which fails on a frozen one.
    ...(config.credentials === undefined ? {} : { credentials: { ...config.credentials } }),
    // The SDK's default sends streamed bodies aws-chunked with a trailing CRC32, which several
    // S3-compatible servers store as the content; checksums only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
