import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin, MULTIPART_LIMITS, secret, z } from '@trellis/plugin-sdk';
import { s3ClientFor } from './s3-client';
import { S3ObjectStore } from './s3-object-store';

const MiB = 1024 * 1024;

/** The config of a storage-s3 instance. */
export const storageS3Config = z
  .object({
    /** The bucket that holds the instance's objects; it must exist. */
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and dashes'),
    /** The bucket's region. */
    region: z.string().min(1, 'region must name a region').max(64).default('us-east-1'),
    /** The S3 API's URL, for S3-compatible servers (MinIO, Ceph, Garage, s3rver); AWS's own when absent. */
    endpoint: z.url({ message: 'endpoint must be a URL such as http://127.0.0.1:9000' }).optional(),
    /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
    forcePathStyle: z.boolean().default(false),
    /** A key prefix inside the bucket (no leading or trailing slash): objects go under `<prefix>/`. */
    prefix: z
      .string()
      .regex(/^[^/](?:.*[^/])?$/, 'prefix must not start or end with a slash')
      .max(512)
      .optional(),
    /** Static credentials, as secret references; the SDK's default chain (environment, profile, instance role) when absent. */
    credentials: z
      .object({ accessKeyId: secret(), secretAccessKey: secret(), sessionToken: secret().optional() })
      .strict()
      .optional(),
    /** The part size of multipart uploads in MiB (5 to 5120); a stream up to one part goes as one PutObject. */
    partSizeMiB: z
      .number()
      .int()
      .min(MULTIPART_LIMITS.minPartSize / MiB)
      .max(5120)
      .default(8),
  })
  .strict();

/** A storage-s3 instance's config, as checked. */
export type StorageS3Config = z.infer<typeof storageS3Config>;

/** Storage in an S3 bucket, or any server that speaks the S3 API. */
export const storageS3Plugin = definePlugin({
  manifest: { kind: 'storage', id: 'storage-s3', apiVersion: 'v1' },
  configSchema: storageS3Config,
  async create(ctx, config) {
    const spoolDir = join(ctx.dataDir, 'spool');
    await mkdir(spoolDir, { recursive: true });
    const client = s3ClientFor(config);
    return new S3ObjectStore({ client, bucket: config.bucket, prefix: config.prefix, partSize: config.partSizeMiB * MiB, spoolDir });
  },
});
