import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type CopyOptions,
  type GetOptions,
  type ListOptions,
  type ListPage,
  MULTIPART_LIMITS,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  type UploadedPart,
  type UploadPartResult,
} from '../contracts';
import { InvalidPartError, InvalidRangeError, ObjectNotFoundError, UploadNotFoundError } from '../errors';
import { compareKeys, validateObjectKey } from '../storage/object-key';

/** An object as a `MemoryObjectStore` holds it. */
export interface StoredObject {
  /** The bytes at rest (a copy; changing it changes nothing stored). */
  bytes: Buffer;
  /** Counts writes of the key: it changes whenever the object is written, and only then. */
  revision: number;
  lastModified: Date;
}

interface Entry {
  bytes: Buffer;
  sha256: string;
  revision: number;
  lastModified: Date;
}

const READ_CHUNK = 64 * 1024;

/**
 * The storage contract in memory, for specs: it passes `describeStorageConformance`, holds every
 * object whole in memory (so it is no place for large objects), and lets a spec look at and alter
 * the bytes at rest (`inspect`, `replaceBytes`), as one would read a file of storage-fs.
 */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, Entry>();
  private readonly uploads = new Map<string, { key: string; parts: Map<number, { bytes: Buffer; etag: string }> }>();
  private revisions = 0;

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    validateObjectKey(key);
    const bytes = await readBody(body, options.signal);
    const entry = this.store(key, bytes);
    return { key, size: bytes.length, sha256: entry.sha256, etag: entry.sha256 };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    validateObjectKey(key);
    const entry = this.objects.get(key);
    if (!entry) throw new ObjectNotFoundError(key);
    const { offset = 0, length } = options.range ?? {};
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(key, `offset must be an integer of at least 0, got ${offset}`);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 1)) throw new InvalidRangeError(key, `length must be an integer of at least 1, got ${length}`);
    if (offset > 0 && offset >= entry.bytes.length) throw new InvalidRangeError(key, `offset ${offset} is at or past the end of the object (${entry.bytes.length} bytes)`);
    const bytes = entry.bytes.subarray(offset, length === undefined ? undefined : offset + length);
    return Readable.from(chunked(bytes), { objectMode: false });
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
    const objects = keys.slice(0, limit).map((key) => {
      const entry = this.objects.get(key) as Entry;
      return { key, size: entry.bytes.length, lastModified: entry.lastModified };
    });
    return keys.length > limit ? { objects, nextCursor: Buffer.from(keys[limit - 1]).toString('base64url') } : { objects };
  }

  async copy(from: string, to: string, options: CopyOptions = {}): Promise<PutResult> {
    validateObjectKey(from);
    validateObjectKey(to);
    options.signal?.throwIfAborted();
    const source = this.objects.get(from);
    if (!source) throw new ObjectNotFoundError(from);
    const entry = this.store(to, Buffer.from(source.bytes));
    return { key: to, size: entry.bytes.length, sha256: entry.sha256, etag: entry.sha256 };
  }

  async move(from: string, to: string): Promise<PutResult> {
    validateObjectKey(from);
    validateObjectKey(to);
    const source = this.objects.get(from);
    if (!source) throw new ObjectNotFoundError(from);
    let entry = source;
    if (from !== to) {
      entry = this.store(to, source.bytes);
      this.objects.delete(from);
    }
    return { key: to, size: entry.bytes.length, sha256: entry.sha256, etag: entry.sha256 };
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
    const bodies = parts.map((part, i) => {
      if (i > 0 && part.partNumber <= parts[i - 1].partNumber) throw new InvalidPartError(`parts must be listed in ascending part number order`);
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

  /** The object at `key` as stored, or undefined when there is none. */
  inspect(key: string): StoredObject | undefined {
    const entry = this.objects.get(key);
    return entry && { bytes: Buffer.from(entry.bytes), revision: entry.revision, lastModified: entry.lastModified };
  }

  /** Every key stored, in listing order, whatever wraps this store. */
  keys(): string[] {
    return [...this.objects.keys()].sort(compareKeys);
  }

  /** Replaces the bytes at rest of an existing object, as an attacker with access to the disk would. */
  replaceBytes(key: string, bytes: Uint8Array): void {
    if (!this.objects.has(key)) throw new ObjectNotFoundError(key);
    this.store(key, Buffer.from(bytes));
  }

  private store(key: string, bytes: Buffer): Entry {
    const entry = { bytes, sha256: sha256(bytes), revision: ++this.revisions, lastModified: new Date() };
    this.objects.set(key, entry);
    return entry;
  }

  private upload(upload: MultipartUpload): { key: string; parts: Map<number, { bytes: Buffer; etag: string }> } {
    validateObjectKey(upload.key);
    const found = this.uploads.get(upload.uploadId);
    if (!found || found.key !== upload.key) throw new UploadNotFoundError(upload.key, String(upload.uploadId));
    return found;
  }
}

/** The whole body, or the body's error, or the signal's reason when it aborts first. */
async function readBody(body: ObjectBody, signal?: AbortSignal): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  signal?.throwIfAborted();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = () => fail(signal?.reason as Error);
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      body.off('data', onData);
      reject(err);
    };
    const onData = (chunk: Buffer | string) => chunks.push(Buffer.from(chunk));
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
  });
}

function* chunked(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += READ_CHUNK) yield Buffer.from(bytes.subarray(at, at + READ_CHUNK));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
