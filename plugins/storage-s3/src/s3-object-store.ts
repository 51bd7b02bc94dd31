import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  InvalidPartError,
  InvalidRangeError,
  MULTIPART_LIMITS,
  ObjectNotFoundError,
  validateObjectKey,
  type CopyOptions,
  type GetOptions,
  type InstanceHealth,
  type ListOptions,
  type ListPage,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectKey,
  type ObjectStore,
  type PresignOptions,
  type PutOptions,
  type PutResult,
  type UploadedPart,
  type UploadPartResult,
} from '@trellis/plugin-sdk';
import { isNotFound, s3ErrorCode, storageError } from './s3-errors';

/** Entries of a listing page when the caller names no limit, and at most (S3's own cap). */
const MAX_LIST_LIMIT = 1000;
/** The largest object one CopyObject copies; above it a copy goes part by part (UploadPartCopy). */
const MAX_SINGLE_COPY = 5 * 1024 ** 3;
/** The part size of a multipart copy (S3 takes 5 MiB to 5 GiB). */
const COPY_PART_SIZE = 512 * 1024 ** 2;
/** The longest a presigned URL may live (S3's limit for SigV4: 7 days). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** The user metadata key holding an object's SHA-256 (sent as `x-amz-meta-sha256`). */
const SHA256_META = 'sha256';

/** What an `S3ObjectStore` needs: a client configured for the backend, and where the objects go. */
export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key with a `/`; none when absent. */
  prefix?: string;
  /** Streams longer than this go as a multipart upload with parts of this size. */
  partSize: number;
  /** Where a part of unknown length is spooled to learn its length before it is sent. */
  spoolDir: string;
  /** Above `single` bytes a copy goes in parts of `part` bytes; S3's 5 GiB and 512 MiB when absent (specs lower them). */
  copyLimits?: { single: number; part: number };
}

/**
 * Objects in an S3 bucket (or an S3-compatible server). A write is visible whole or not at all, as
 * S3 promises for PutObject, CompleteMultipartUpload and CopyObject; SHA-256 travels as user metadata.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly partSize: number;
  private readonly spoolDir: string;
  private readonly copyLimits: { single: number; part: number };

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.keyPrefix = options.prefix ? `${options.prefix}/` : '';
    this.partSize = options.partSize;
    this.spoolDir = options.spoolDir;
    this.copyLimits = options.copyLimits ?? { single: MAX_SINGLE_COPY, part: COPY_PART_SIZE };
  }

  async put(key: ObjectKey, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    validateObjectKey(key);
    const { signal } = options;
    signal?.throwIfAborted();
    if (body instanceof Uint8Array && body.byteLength <= this.partSize) return this.putWhole(key, Buffer.from(body.buffer, body.byteOffset, body.byteLength), signal);
    // Bytes beyond one part go as a multipart upload, as a stream does (PutObject stops at 5 GiB).
    const stream = body instanceof Uint8Array ? Readable.from([body]) : body;
    const iterator = (stream as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    const head = await readUpTo(iterator, this.partSize, signal).catch((error: unknown) => {
      // An abandoned write consumes no more of its body.
      stream.destroy();
      throw error;
    });
    if (head.ended) return this.putWhole(key, Buffer.concat(head.chunks), signal);
    return this.putStreamed(key, head.chunks, iterator, signal);
  }

  async get(key: ObjectKey, options: GetOptions = {}): Promise<Readable> {
    validateObjectKey(key);
    const { offset, length } = options.range ?? { offset: 0 };
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidRangeError(key, `offset ${offset} is not a byte position`);
    if (length !== undefined && (!Number.isInteger(length) || length < 1)) throw new InvalidRangeError(key, `length ${length} is not a whole number of at least 1`);
    const range = options.range === undefined || (offset === 0 && length === undefined) ? undefined : `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Range: range }));
      return out.Body as Readable;
    } catch (error) {
      throw storageError(error, this.bucket, 'GetObject', key);
    }
  }

  async head(key: ObjectKey): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    const out = await this.headObject(key);
    return out && infoOf(key, out);
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = Math.min(Math.max(Math.floor(options.limit ?? MAX_LIST_LIMIT), 1), MAX_LIST_LIMIT);
    // The cursor is the last key of the page, and the next page starts after it (ListObjectsV2's
    // StartAfter): stateless, and the same on every S3-compatible server.
    const after = options.cursor === undefined ? undefined : this.keyPrefix + Buffer.from(options.cursor, 'base64url').toString('utf8');
    try {
      // ListObjectsV2 returns keys in ascending UTF-8 byte order, the contract's order.
      const out = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix + (options.prefix ?? ''), MaxKeys: limit, StartAfter: after }),
      );
      const objects = (out.Contents ?? []).map((entry) => ({
        key: (entry.Key ?? '').slice(this.keyPrefix.length),
        size: entry.Size ?? 0,
        lastModified: entry.LastModified ?? new Date(0),
      }));
      const last = objects[objects.length - 1];
      return out.IsTruncated && last ? { objects, nextCursor: Buffer.from(last.key, 'utf8').toString('base64url') } : { objects };
    } catch (error) {
      throw storageError(error, this.bucket, 'ListObjectsV2');
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    validateObjectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (error) {
      throw storageError(error, this.bucket, 'DeleteObject', key);
    }
  }

  async createMultipartUpload(key: ObjectKey): Promise<MultipartUpload> {
    validateObjectKey(key);
    try {
      const out = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      if (!out.UploadId) throw new Error('the answer has no UploadId');
      return { key, uploadId: out.UploadId };
    } catch (error) {
      throw storageError(error, this.bucket, 'CreateMultipartUpload', key);
    }
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    checkPartNumber(partNumber);
    const spooled = body instanceof Uint8Array ? undefined : await this.spool(body);
    try {
      const size = spooled ? spooled.size : (body as Uint8Array).byteLength;
      const out = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.fullKey(upload.key),
          UploadId: upload.uploadId,
          PartNumber: partNumber,
          Body: spooled ? createReadStream(spooled.path) : (body as Uint8Array),
          ContentLength: size,
        }),
      );
      return { partNumber, etag: out.ETag ?? '', size };
    } catch (error) {
      throw storageError(error, this.bucket, 'UploadPart', upload.key, upload.uploadId);
    } finally {
      if (spooled) await rm(spooled.path, { force: true });
    }
  }

  async completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo> {
    if (parts.length === 0) throw new InvalidPartError('name at least one part to complete an upload');
    for (const [index, part] of parts.entries()) {
      checkPartNumber(part.partNumber);
      if (index > 0 && part.partNumber <= parts[index - 1].partNumber) {
        throw new InvalidPartError(`list parts in ascending order of part number: ${part.partNumber} follows ${parts[index - 1].partNumber}`);
      }
    }
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.fullKey(upload.key),
          UploadId: upload.uploadId,
          MultipartUpload: { Parts: parts.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag })) },
        }),
      );
    } catch (error) {
      throw storageError(error, this.bucket, 'CompleteMultipartUpload', upload.key, upload.uploadId);
    }
    const out = await this.headObject(upload.key);
    if (!out) throw new Error(`storage-s3: ${JSON.stringify(upload.key)} in bucket ${JSON.stringify(this.bucket)} is missing right after its upload completed`);
    return infoOf(upload.key, out);
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.fullKey(upload.key), UploadId: upload.uploadId }));
    } catch (error) {
      if (s3ErrorCode(error) === 'NoSuchUpload') return;
      throw storageError(error, this.bucket, 'AbortMultipartUpload', upload.key, upload.uploadId);
    }
  }

  async copy(from: ObjectKey, to: ObjectKey, options: CopyOptions = {}): Promise<PutResult> {
    validateObjectKey(from);
    validateObjectKey(to);
    const { signal } = options;
    // The copy applies only while the source is the version headed; one overwritten meanwhile is headed again.
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const source = await this.headObject(from);
      if (!source) throw new ObjectNotFoundError(from);
      const size = source.ContentLength ?? 0;
      const sha256 = source.Metadata?.[SHA256_META] ?? (await this.hashOf(from, source.ETag, signal));
      if (from === to && source.Metadata?.[SHA256_META] !== undefined) return { key: to, size, sha256, etag: source.ETag ?? '' };
      signal?.throwIfAborted();
      try {
        return { key: to, size, sha256, etag: await this.copyWithSha256(from, to, size, sha256, source.ETag, signal) };
      } catch (error) {
        if (isNotFound(error)) throw new ObjectNotFoundError(from);
        if (s3ErrorCode(error) === 'PreconditionFailed' && attempt < 3) continue;
        throw storageError(error, this.bucket, size > this.copyLimits.single ? 'UploadPartCopy' : 'CopyObject', to);
      }
    }
  }

  /**
   * S3 has no rename: a `copy` (CopyObject, so no byte passes through this process), then a
   * DeleteObject of the source. A failure between the two leaves both objects whole.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<PutResult> {
    const moved = await this.copy(from, to);
    if (from !== to) await this.delete(from);
    return moved;
  }

  async presign(key: ObjectKey, options: PresignOptions): Promise<string> {
    validateObjectKey(key);
    const { method, expiresInSeconds } = options;
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`expiresInSeconds must be a whole number from 1 to ${MAX_PRESIGN_SECONDS} (7 days), not ${expiresInSeconds}`);
    }
    if (method !== 'GET' && method !== 'PUT') throw new TypeError(`method must be GET or PUT, not ${JSON.stringify(method)}`);
    const params = { Bucket: this.bucket, Key: this.fullKey(key) };
    const command = method === 'GET' ? new GetObjectCommand(params) : new PutObjectCommand(params);
    return getSignedUrl(this.client, command, { expiresIn: expiresInSeconds });
  }

  async health(): Promise<InstanceHealth> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return { ok: true };
    } catch (error) {
      if (isNotFound(error)) return { ok: false, message: `bucket ${JSON.stringify(this.bucket)} does not exist` };
      return { ok: false, message: storageError(error, this.bucket, 'HeadBucket').message };
    }
  }

  close(): void {
    this.client.destroy();
  }

  private fullKey(key: ObjectKey): string {
    return this.keyPrefix + key;
  }

  private copySource(key: ObjectKey): string {
    return `${this.bucket}/${encodeURIComponent(this.fullKey(key)).replace(/%2F/g, '/')}`;
  }

  private async headObject(key: ObjectKey): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storageError(error, this.bucket, 'HeadObject', key);
    }
  }

  /** One PutObject of bytes in memory, with their SHA-256 as metadata. */
  private async putWhole(key: ObjectKey, bytes: Buffer, signal: AbortSignal | undefined): Promise<PutResult> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      const out = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Body: bytes, ContentLength: bytes.length, Metadata: { [SHA256_META]: sha256 } }),
        { abortSignal: signal },
      );
      return { key, size: bytes.length, sha256, etag: out.ETag ?? '' };
    } catch (error) {
      throw storageError(error, this.bucket, 'PutObject', key);
    }
  }

  /**
   * A stream longer than one part: a multipart upload through lib-storage, hashed as it passes, so
   * memory holds at most a few parts. The SHA-256 is known only at the end, so it is added to the
   * object's metadata by a copy onto itself that applies only while the object is still this upload's.
   */
  private async putStreamed(key: ObjectKey, first: Buffer[], rest: AsyncIterator<Uint8Array | string>, signal: AbortSignal | undefined): Promise<PutResult> {
    const hash = createHash('sha256');
    let size = 0;
    const hashed = Readable.from(
      (async function* () {
        for (const chunk of first) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
        for (let next = await rest.next(); !next.done; next = await rest.next()) {
          const chunk = asBuffer(next.value);
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      })(),
    );
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.fullKey(key), Body: hashed },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
      abortController,
    });
    let etag: string;
    try {
      etag = (await upload.done()).ETag ?? '';
    } catch (error) {
      hashed.destroy();
      throw storageError(error, this.bucket, 'multipart PutObject', key);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const sha256 = hash.digest('hex');
    try {
      return { key, size, sha256, etag: await this.copyWithSha256(key, key, size, sha256, etag, undefined) };
    } catch (error) {
      // Another writer replaced the object meanwhile: its version is the current one, and ours stands as written.
      if (s3ErrorCode(error) === 'PreconditionFailed' || isNotFound(error)) return { key, size, sha256, etag };
      throw storageError(error, this.bucket, 'CopyObject (recording the SHA-256)', key);
    }
  }

  /**
   * Copies `from` (while its etag is `etag`) to `to` with `sha256` as metadata, and returns the
   * copy's etag: one CopyObject up to its 5 GiB, else a multipart upload of ranges (UploadPartCopy).
   * Throws S3's error as it is.
   */
  private async copyWithSha256(from: ObjectKey, to: ObjectKey, size: number, sha256: string, etag: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    if (size <= this.copyLimits.single) {
      const out = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(to),
          CopySource: this.copySource(from),
          CopySourceIfMatch: etag,
          MetadataDirective: 'REPLACE',
          Metadata: { [SHA256_META]: sha256 },
        }),
        { abortSignal: signal },
      );
      return out.CopyObjectResult?.ETag ?? '';
    }
    return this.copyInParts(from, to, size, sha256, etag, signal);
  }

  /** A copy above CopyObject's limit: a multipart upload whose parts are ranges of the source; returns its etag. */
  private async copyInParts(from: ObjectKey, to: ObjectKey, size: number, sha256: string, etag: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.fullKey(to), Metadata: { [SHA256_META]: sha256 } }),
        { abortSignal: signal },
      );
      uploadId = created.UploadId;
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let start = 0, partNumber = 1; start < size; start += this.copyLimits.part, partNumber++) {
        const end = Math.min(size, start + this.copyLimits.part) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: this.fullKey(to),
            UploadId: uploadId,
            PartNumber: partNumber,
            CopySource: this.copySource(from),
            CopySourceIfMatch: etag,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
          { abortSignal: signal },
        );
        parts.push({ PartNumber: partNumber, ETag: out.CopyPartResult?.ETag ?? '' });
      }
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.fullKey(to), UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return done.ETag ?? '';
    } catch (error) {
      if (uploadId) await this.abortMultipartUpload({ key: to, uploadId }).catch(() => undefined);
      throw error;
    }
  }

  /** The SHA-256 of an object that has none recorded (written by a presigned PUT or another tool), by reading it. */
  private async hashOf(key: ObjectKey, etag: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), IfMatch: etag }), { abortSignal: signal });
      const hash = createHash('sha256');
      for await (const chunk of out.Body as Readable) hash.update(chunk as Uint8Array);
      return hash.digest('hex');
    } catch (error) {
      throw storageError(error, this.bucket, 'GetObject (hashing the copy source)', key);
    }
  }

  /** Writes a stream to a file of the spool directory, so its length is known before it is sent. */
  private async spool(body: Readable): Promise<{ path: string; size: number }> {
    const path = join(this.spoolDir, `part-${randomUUID()}`);
    try {
      await pipeline(body, createWriteStream(path));
      return { path, size: (await stat(path)).size };
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
  }
}

/** Reads from `iterator` until more than `limit` bytes came or it ended; an abort stops the wait. */
async function readUpTo(iterator: AsyncIterator<Uint8Array | string>, limit: number, signal: AbortSignal | undefined): Promise<{ chunks: Buffer[]; ended: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let onAbort: (() => void) | undefined;
  const aborted =
    signal &&
    new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  aborted?.catch(() => undefined);
  try {
    while (size <= limit) {
      const next = await (aborted ? Promise.race([iterator.next(), aborted]) : iterator.next());
      if (next.done) return { chunks, ended: true };
      const chunk = asBuffer(next.value);
      chunks.push(chunk);
      size += chunk.length;
    }
    return { chunks, ended: false };
  } finally {
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** A chunk as a Buffer, without copying its bytes (a stream in text mode gives strings). */
function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function infoOf(key: ObjectKey, out: HeadObjectCommandOutput): ObjectInfo {
  const sha256 = out.Metadata?.[SHA256_META];
  return {
    key,
    size: out.ContentLength ?? 0,
    etag: out.ETag ?? '',
    ...(sha256 === undefined ? {} : { sha256 }),
    lastModified: out.LastModified ?? new Date(0),
  };
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
    throw new InvalidPartError(`part number ${partNumber} is not a whole number from 1 to ${MULTIPART_LIMITS.maxPartNumber}`);
  }
}
