import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  compareKeys,
  type GetOptions,
  InvalidPartError,
  InvalidRangeError,
  type ListOptions,
  type ListPage,
  MULTIPART_LIMITS,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  type UploadedPart,
  UploadNotFoundError,
  type UploadPartResult,
  validateObjectKey,
} from '@trellis/plugin-sdk';

interface Entry {
  bytes: Buffer;
  sha256: string;
  lastModified: Date;
}

interface Upload {
  key: string;
  parts: Map<number, { bytes: Buffer; etag: string }>;
}

/**
 * The storage contract (v1) in memory. Every method checks the key with the SDK's
 * `validateObjectKey` first and throws the SDK's errors, which the host maps to its own
 * (`ObjectNotFoundError` becomes NOT_FOUND, and so on).
 */
export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<string, Entry>();
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly readChunkBytes: number) {}

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    validateObjectKey(key);
    const entry = this.store(key, await readBody(body, options.signal));
    return { key, size: entry.bytes.length, sha256: entry.sha256, etag: entry.sha256 };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    validateObjectKey(key);
    const entry = this.objects.get(key);
    if (!entry) throw new ObjectNotFoundError(key);
    const offset = options.range?.offset ?? 0;
    const length = options.range?.length;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(key, `offset must be an integer of at least 0, got ${offset}`);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 1)) throw new InvalidRangeError(key, `length must be an integer of at least 1, got ${length}`);
    if (offset > 0 && offset >= entry.bytes.length) throw new InvalidRangeError(key, `offset ${offset} is at or past the end of the object (${entry.bytes.length} bytes)`);
    const bytes = entry.bytes.subarray(offset, length === undefined ? undefined : offset + length);
    return Readable.from(chunks(bytes, this.readChunkBytes), { objectMode: false });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    const entry = this.objects.get(key);
    return entry && { key, size: entry.bytes.length, etag: entry.sha256, sha256: entry.sha256, lastModified: entry.lastModified };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = Math.min(options.limit ?? 1000, 1000);
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`list limit must be an integer of at least 1, got ${options.limit}`);
    const after = options.cursor === undefined ? undefined : Buffer.from(options.cursor, 'base64url').toString();
    const keys = [...this.objects.keys()]
      .filter((key) => key.startsWith(options.prefix ?? '') && (after === undefined || compareKeys(key, after) > 0))
      .sort(compareKeys);
    const page = keys.slice(0, limit);
    const objects = page.flatMap((key) => {
      const entry = this.objects.get(key);
      return entry ? [{ key, size: entry.bytes.length, lastModified: entry.lastModified }] : [];
    });
    const last = page[page.length - 1];
    return keys.length > limit && last !== undefined ? { objects, nextCursor: Buffer.from(last).toString('base64url') } : { objects };
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    this.objects.delete(key);
  }

  async createMultipartUpload(key: string): Promise<MultipartUpload> {
    validateObjectKey(key);
    const uploadId = randomUUID();
    this.uploads.set(uploadId, { key, parts: new Map() });
    return { key, uploadId };
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
      throw new InvalidPartError(`part number ${partNumber} is not allowed; part numbers are integers from 1 to ${MULTIPART_LIMITS.maxPartNumber}`);
    }
    this.upload(upload);
    const bytes = await readBody(body);
    const etag = sha256(bytes);
    this.upload(upload).parts.set(partNumber, { bytes, etag });
    return { partNumber, etag, size: bytes.length };
  }

  async completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo> {
    const stored = this.upload(upload).parts;
    if (parts.length === 0) throw new InvalidPartError('a multipart upload is completed with at least one part');
    let previous = 0;
    const bodies = parts.map((part, i) => {
      if (part.partNumber <= previous) throw new InvalidPartError('parts must be listed in ascending part number order');
      previous = part.partNumber;
      const found = stored.get(part.partNumber);
      if (!found) throw new InvalidPartError(`part ${part.partNumber} was not uploaded`);
      if (found.etag !== part.etag) throw new InvalidPartError(`part ${part.partNumber} has etag ${found.etag}, not ${part.etag}`);
      if (i < parts.length - 1 && found.bytes.length < MULTIPART_LIMITS.minPartSize) throw new InvalidPartError(`part ${part.partNumber} is under 5 MiB and not the last`);
      return found.bytes;
    });
    const entry = this.store(upload.key, Buffer.concat(bodies));
    this.uploads.delete(upload.uploadId);
    return { key: upload.key, size: entry.bytes.length, etag: entry.sha256, sha256: entry.sha256, lastModified: entry.lastModified };
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    validateObjectKey(upload.key);
    if (this.uploads.get(upload.uploadId)?.key === upload.key) this.uploads.delete(upload.uploadId);
  }

  /** Nothing to reach: an instance in memory is always healthy. */
  health(): { ok: true } {
    return { ok: true };
  }

  private store(key: string, bytes: Buffer): Entry {
    const entry = { bytes, sha256: sha256(bytes), lastModified: new Date() };
    this.objects.set(key, entry);
    return entry;
  }

  private upload(upload: MultipartUpload): Upload {
    validateObjectKey(upload.key);
    const found = this.uploads.get(upload.uploadId);
    if (!found || found.key !== upload.key) throw new UploadNotFoundError(upload.key, String(upload.uploadId));
    return found;
  }
}

/** The whole body, or the stream's error, or the signal's reason when it aborts first. */
async function readBody(body: ObjectBody, signal?: AbortSignal): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  signal?.throwIfAborted();
  return new Promise<Buffer>((resolve, reject) => {
    const received: Buffer[] = [];
    const onAbort = () => fail(signal?.reason as Error);
    const onData = (chunk: Buffer | string) => received.push(Buffer.from(chunk));
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      body.off('data', onData);
      reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(received));
    });
  });
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
