import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  compareKeys,
  InvalidPartError,
  InvalidRangeError,
  MULTIPART_LIMITS,
  ObjectNotFoundError,
  UploadNotFoundError,
  validateObjectKey,
  type GetOptions,
  type ListOptions,
  type ListPage,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectKey,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  type UploadedPart,
  type UploadPartResult,
} from '@trellis/plugin-sdk';

/** What a stored file says about its content, written after the content's last byte. */
interface Trailer {
  key: ObjectKey;
  size: number;
  sha256: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/** The trailer's length, as the last 4 bytes of a file (big-endian). */
const LENGTH_BYTES = 4;

/** Entries of a listing page when the caller names no limit, and at most. */
const MAX_LIST_LIMIT = 1000;

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Objects in a directory, one file each: the bytes, then a trailer with the key, size and SHA-256.
 * A write is staged and renamed into place, so readers see one whole version or the other.
 */
export class DirectoryObjectStore implements ObjectStore {
  private constructor(private readonly root: string) {}

  /** The store under `root`, creating its folders when missing. */
  static async open(root: string): Promise<DirectoryObjectStore> {
    for (const dir of ['objects', 'uploads', 'staging']) await mkdir(join(root, dir), { recursive: true });
    return new DirectoryObjectStore(root);
  }

  async put(key: ObjectKey, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    validateObjectKey(key);
    const trailer = await this.write(this.objectPath(key), key, body, options.signal);
    return { key, size: trailer.size, sha256: trailer.sha256, etag: trailer.sha256 };
  }

  async get(key: ObjectKey, options: GetOptions = {}): Promise<Readable> {
    validateObjectKey(key);
    const { offset, length } = options.range ?? { offset: 0 };
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidRangeError(key, `offset ${offset} is not a byte position`);
    if (length !== undefined && (!Number.isInteger(length) || length < 1)) throw new InvalidRangeError(key, `length ${length} is not a whole number of at least 1`);
    const handle = await this.openObject(key);
    if (!handle) throw new ObjectNotFoundError(key);
    const { size } = await trailerOf(handle);
    if (offset > 0 && offset >= size) {
      await handle.close();
      throw new InvalidRangeError(key, `offset ${offset} is past the object's ${size} bytes`);
    }
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (end === offset) {
      await handle.close();
      return Readable.from([]);
    }
    // The open handle keeps this version readable even if a write replaces the file meanwhile.
    return handle.createReadStream({ start: offset, end: end - 1 });
  }

  async head(key: ObjectKey): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    const handle = await this.openObject(key);
    if (!handle) return undefined;
    try {
      return infoOf(await trailerOf(handle));
    } finally {
      await handle.close();
    }
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    const limit = Math.min(Math.max(Math.floor(options.limit ?? MAX_LIST_LIMIT), 1), MAX_LIST_LIMIT);
    const after = options.cursor === undefined ? undefined : Buffer.from(options.cursor, 'base64url').toString('utf8');
    const found: Trailer[] = [];
    for (const name of await readdir(join(this.root, 'objects'))) {
      const trailer = await readTrailer(join(this.root, 'objects', name));
      if (trailer?.key.startsWith(prefix) && (after === undefined || compareKeys(trailer.key, after) > 0)) found.push(trailer);
    }
    found.sort((a, b) => compareKeys(a.key, b.key));
    const page = found.slice(0, limit);
    const objects = page.map(({ key, size, lastModified }) => ({ key, size, lastModified: new Date(lastModified) }));
    if (found.length <= limit) return { objects };
    return { objects, nextCursor: Buffer.from(page[page.length - 1].key, 'utf8').toString('base64url') };
  }

  async delete(key: ObjectKey): Promise<void> {
    validateObjectKey(key);
    await rm(this.objectPath(key), { force: true });
  }

  async createMultipartUpload(key: ObjectKey): Promise<MultipartUpload> {
    validateObjectKey(key);
    const uploadId = randomUUID();
    await mkdir(join(this.root, 'uploads', uploadId));
    return { key, uploadId };
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    checkPartNumber(partNumber);
    const dir = this.uploadDir(upload);
    const trailer = await this.write(join(dir, String(partNumber)), upload.key, body).catch((error: NodeJS.ErrnoException) => {
      // The upload's folder is gone: it was completed or aborted.
      throw error.code === 'ENOENT' ? new UploadNotFoundError(upload.key, upload.uploadId) : error;
    });
    return { partNumber, etag: trailer.sha256, size: trailer.size };
  }

  async completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo> {
    const dir = this.uploadDir(upload);
    if ((await readdir(dir).catch(() => undefined)) === undefined) throw new UploadNotFoundError(upload.key, upload.uploadId);
    if (parts.length === 0) throw new InvalidPartError('name at least one part to complete an upload');
    const sizes: number[] = [];
    for (const [index, part] of parts.entries()) {
      checkPartNumber(part.partNumber);
      if (index > 0 && part.partNumber <= parts[index - 1].partNumber) {
        throw new InvalidPartError(`list parts in ascending order of part number: ${part.partNumber} follows ${parts[index - 1].partNumber}`);
      }
      const stored = await readTrailer(join(dir, String(part.partNumber)));
      if (!stored) throw new InvalidPartError(`part ${part.partNumber} was not uploaded`);
      if (stored.sha256 !== part.etag) throw new InvalidPartError(`part ${part.partNumber} has another etag: it was uploaded again since`);
      if (index < parts.length - 1 && stored.size < MULTIPART_LIMITS.minPartSize) {
        throw new InvalidPartError(`part ${part.partNumber} is ${stored.size} bytes; every part but the last must be at least ${MULTIPART_LIMITS.minPartSize}`);
      }
      sizes.push(stored.size);
    }
    const paths = parts.map((part) => join(dir, String(part.partNumber)));
    const joined = Readable.from(
      (async function* () {
        for (const [index, path] of paths.entries()) if (sizes[index] > 0) yield* createReadStream(path, { start: 0, end: sizes[index] - 1 });
      })(),
    );
    const trailer = await this.write(this.objectPath(upload.key), upload.key, joined);
    await rm(dir, { recursive: true, force: true });
    return infoOf(trailer);
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    await rm(this.uploadDir(upload), { recursive: true, force: true });
  }

  /** Where an object's file is: named by a hash of its key, which may be longer than a file name can be. */
  private objectPath(key: ObjectKey): string {
    return join(this.root, 'objects', createHash('sha256').update(key, 'utf8').digest('hex'));
  }

  /** The folder of an upload; an id this store did not issue (which could name any path) is UploadNotFoundError. */
  private uploadDir(upload: MultipartUpload): string {
    if (!UPLOAD_ID.test(upload.uploadId)) throw new UploadNotFoundError(upload.key, upload.uploadId);
    return join(this.root, 'uploads', upload.uploadId);
  }

  /** The object's file, open for reading, or undefined when there is none. */
  private async openObject(key: ObjectKey): Promise<FileHandle | undefined> {
    const handle = await open(this.objectPath(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (handle && (await trailerOf(handle)).key !== key) {
      await handle.close();
      return undefined;
    }
    return handle;
  }

  /** Writes `body` and its trailer to a staged file, syncs it, and renames it to `target`; nothing stays staged if it fails. */
  private async write(target: string, key: ObjectKey, body: ObjectBody, signal?: AbortSignal): Promise<Trailer> {
    const staged = join(this.root, 'staging', randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const measured = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body instanceof Uint8Array ? Readable.from([body]) : body, measured, createWriteStream(staged, { flags: 'wx' }), { signal });
      const trailer: Trailer = { key, size, sha256: hash.digest('hex'), lastModified: Date.now() };
      const json = Buffer.from(JSON.stringify(trailer), 'utf8');
      const length = Buffer.alloc(LENGTH_BYTES);
      length.writeUInt32BE(json.length);
      await appendFile(staged, Buffer.concat([json, length]));
      // Synced before the rename, so that after a crash the new name never points at missing bytes.
      const handle = await open(staged, 'r');
      await handle.sync();
      await handle.close();
      await rename(staged, target);
      return trailer;
    } catch (error) {
      await rm(staged, { force: true });
      throw error;
    }
  }
}

/** The trailer of an open stored file. */
async function trailerOf(handle: FileHandle): Promise<Trailer> {
  const { size } = await handle.stat();
  const length = Buffer.alloc(LENGTH_BYTES);
  await handle.read(length, 0, LENGTH_BYTES, size - LENGTH_BYTES);
  const json = Buffer.alloc(length.readUInt32BE(0));
  await handle.read(json, 0, json.length, size - LENGTH_BYTES - json.length);
  return JSON.parse(json.toString('utf8')) as Trailer;
}

/** The trailer of the stored file at `path`, or undefined when it is gone (deleted while a listing ran). */
async function readTrailer(path: string): Promise<Trailer | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    return await trailerOf(handle);
  } finally {
    await handle.close();
  }
}

function infoOf({ key, size, sha256, lastModified }: Trailer): ObjectInfo {
  return { key, size, etag: sha256, sha256, lastModified: new Date(lastModified) };
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
    throw new InvalidPartError(`part number ${partNumber} is not a whole number from 1 to ${MULTIPART_LIMITS.maxPartNumber}`);
  }
}
