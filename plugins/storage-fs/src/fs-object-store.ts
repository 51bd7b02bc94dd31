import { createHash, randomUUID } from 'node:crypto';
import { close, createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  type CopyOptions,
  type GetOptions,
  InvalidKeyError,
  InvalidPartError,
  InvalidRangeError,
  type ListOptions,
  type ListPage,
  MULTIPART_LIMITS,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type ObjectSummary,
  ObjectNotFoundError,
  type PluginLogger,
  type PutOptions,
  type PutResult,
  type UploadedPart,
  UploadNotFoundError,
  type UploadPartResult,
  validateObjectKey,
} from '@trellis/plugin-sdk';
import { withLock } from './keyed-lock';
import { StoreLayout } from './layout';
import { decodeCursor, encodeCursor, isValidKey, walkKeys } from './listing';
import { commitMeta, type FileIdentity, metaOf, metaPathFor, recordedSha256, removeMeta, stageMeta } from './object-meta';
import { removeOrphanedTemps, type StagedFile, stageBody, stageFileCopy, tempPath } from './staging';

const MAX_LIST_LIMIT = 1000;
/** Bytes per read of `get`: large reads cost fewer system calls and stream steps per byte than the 64 KiB default. */
const READ_BYTES = 1024 * 1024;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PART_FILE = /^(\d{5})\.([0-9a-f]{64})\.part$/;

/**
 * The storage contract on a local (or mounted) filesystem. Every write streams into `staging/tmp`
 * on the same filesystem, is fsynced and renamed into place, so an object is only ever seen whole.
 */
export class FsObjectStore implements ObjectStore {
  private constructor(
    private readonly layout: StoreLayout,
    private readonly logger: PluginLogger,
  ) {}

  /** Prepares `root` (an absolute path) and removes what crashed writes left in its staging area. */
  static async open(root: string, logger: PluginLogger): Promise<FsObjectStore> {
    const layout = await StoreLayout.prepare(root);
    const removed = await removeOrphanedTemps(layout.tmpDir, logger);
    if (removed > 0) logger.info({ root: layout.root, removed }, 'removed temp files of crashed writes');
    return new FsObjectStore(layout, logger);
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    const path = this.layout.objectPath(key);
    const release = holdErrors(body);
    const staged = await stageBody(this.layout.tmpDir, body, options.signal).finally(release);
    await this.commit(key, path, staged);
    return { key, size: staged.size, sha256: staged.sha256, etag: staged.sha256 };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const opened = await this.layout.openObject(key);
    if (!opened) throw new ObjectNotFoundError(key);
    const { fd, stats } = opened;
    const range = options.range;
    const problem = range && rangeProblem(range.offset, range.length, Number(stats.size));
    if (problem) {
      await promisify(close)(fd);
      throw new InvalidRangeError(key, problem);
    }
    const start = range?.offset ?? 0;
    const end = range?.length === undefined ? undefined : start + range.length - 1;
    // The stream owns the descriptor: it closes it at the end, on error and when destroyed.
    return createReadStream('', { fd, start, end, highWaterMark: READ_BYTES });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.layout.objectPath(key);
    if (!(await this.layout.isRealDir(dirname(path)))) return undefined;
    let stats;
    try {
      stats = await lstat(path, { bigint: true });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
    if (!stats.isFile()) return undefined;
    const sha256 = (await recordedSha256(this.metaPath(key), stats)) ?? (await this.rehash(key));
    if (sha256 === undefined) return undefined;
    return { key, size: Number(stats.size), etag: sha256, sha256, lastModified: new Date(Number(stats.mtimeMs)) };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    const limit = Math.min(options.limit ?? MAX_LIST_LIMIT, MAX_LIST_LIMIT);
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`list limit must be an integer of at least 1, got ${options.limit}`);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);

    // Start in the deepest directory the prefix names whole; a prefix whose directory part breaks
    // the key rules matches no key.
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    if (dirKey && !isValidKey(dirKey.slice(0, -1))) return { objects: [] };
    const startDir = dirKey ? this.layout.objectPath(dirKey.slice(0, -1)) : this.layout.objectsDir;
    if (dirKey && !(await this.layout.isRealDir(startDir))) return { objects: [] };

    const objects: ObjectSummary[] = [];
    let more = false;
    for await (const found of walkKeys(startDir, dirKey, prefix, after)) {
      if (objects.length === limit) {
        more = true;
        break;
      }
      try {
        const stats = await lstat(found.path);
        objects.push({ key: found.key, size: stats.size, lastModified: new Date(stats.mtimeMs) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted while listing
      }
    }
    return more ? { objects, nextCursor: encodeCursor(objects[objects.length - 1].key) } : { objects };
  }

  /**
   * Copies inside the filesystem: the source's file is copied (a reflink where the filesystem has
   * them) into the staging area under the source's lock, then renamed into place as `put` does.
   * Its SHA-256 is the source's recorded one when the source's file stayed the same file
   * throughout (same inode, size and modification time); otherwise the bytes are read and hashed.
   */
  async copy(from: string, to: string, options: CopyOptions = {}): Promise<PutResult> {
    const path = this.layout.objectPath(to);
    this.layout.objectPath(from);
    options.signal?.throwIfAborted();
    const staged = await withLock(this.objectLock(from), () => this.stageCopyOf(from));
    if (options.signal?.aborted) {
      await unlink(staged.path).catch(() => undefined);
      options.signal.throwIfAborted();
    }
    await this.commit(to, path, staged);
    return { key: to, size: staged.size, sha256: staged.sha256, etag: staged.sha256 };
  }

  /**
   * Renames the source's file to the destination's path: one filesystem, so the rename is atomic
   * and no byte is copied. Runs under both keys' locks, taken in key order so that two moves never
   * wait on each other, and gives the destination a sidecar (the source's hash, recorded or computed
   * now; a rename keeps the identity the sidecar checks), then fsyncs both directories.
   */
  async move(from: string, to: string): Promise<PutResult> {
    const source = this.layout.objectPath(from);
    const path = this.layout.objectPath(to);
    if (from === to) {
      const info = await this.head(from);
      if (!info) throw new ObjectNotFoundError(from);
      // storage-fs's head always reports the SHA-256 (it hashes the file when its sidecar is stale).
      return { key: to, size: info.size, sha256: info.sha256 as string, etag: info.etag };
    }
    const [first, second] = from < to ? [from, to] : [to, from];
    const moved = await withLock(this.objectLock(first), () => withLock(this.objectLock(second), () => this.renameObject(from, source, to, path)));
    await fsyncDir(dirname(path));
    await fsyncDir(dirname(source));
    return { key: to, size: moved.size, sha256: moved.sha256, etag: moved.sha256 };
  }

  async delete(key: string): Promise<void> {
    const path = this.layout.objectPath(key);
    if (!(await this.layout.isRealDir(dirname(path)))) return;
    await withLock(this.objectLock(key), async () => {
      try {
        if ((await lstat(path)).isFile()) await unlink(path);
      } catch (err) {
        if (!['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
      await removeMeta(this.metaPath(key));
      await this.pruneEmptyParents(path);
    });
  }

  async createMultipartUpload(key: string): Promise<MultipartUpload> {
    this.layout.objectPath(key);
    const uploadId = randomUUID();
    const dir = join(this.layout.uploadsDir, uploadId);
    await mkdir(dir);
    await writeFile(join(dir, 'upload.json'), JSON.stringify({ key, createdAt: new Date().toISOString() }), { flag: 'wx' });
    return { key, uploadId };
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
      throw new InvalidPartError(`part number ${partNumber} is not allowed; part numbers are integers from 1 to ${MULTIPART_LIMITS.maxPartNumber}`);
    }
    const release = holdErrors(body);
    const dir = await this.uploadDir(upload).catch((err: unknown) => {
      release();
      throw err;
    });
    const staged = await stageBody(this.layout.tmpDir, body).finally(release);
    const name = `${String(partNumber).padStart(5, '0')}.${staged.sha256}.part`;
    try {
      await withLock(this.uploadLock(upload), async () => {
        await this.uploadDir(upload);
        await rename(staged.path, join(dir, name));
        for (const other of await readdir(dir)) {
          if (other !== name && PART_FILE.exec(other)?.[1] === name.slice(0, 5)) await unlink(join(dir, other));
        }
      });
    } catch (err) {
      await unlink(staged.path).catch(() => undefined);
      throw err;
    }
    return { partNumber, etag: staged.sha256, size: staged.size };
  }

  async completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo> {
    const path = this.layout.objectPath(upload.key);
    await this.uploadDir(upload);
    return withLock(this.uploadLock(upload), async () => {
      const dir = await this.uploadDir(upload);
      const files = await this.partFiles(dir, parts);
      const staged = await stageBody(this.layout.tmpDir, concatenate(files));
      await this.commit(upload.key, path, staged);
      await rm(dir, { recursive: true, force: true });
      const { key } = upload;
      return { key, size: staged.size, etag: staged.sha256, sha256: staged.sha256, lastModified: new Date(Number(staged.mtimeNs / 1_000_000n)) };
    });
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    this.layout.objectPath(upload.key);
    if (!UPLOAD_ID.test(upload.uploadId)) return;
    await withLock(this.uploadLock(upload), async () => {
      try {
        const dir = await this.uploadDir(upload);
        await rm(dir, { recursive: true, force: true });
      } catch (err) {
        if (!(err instanceof UploadNotFoundError)) throw err;
      }
    });
  }

  /**
   * Renames a staged file into place as `key`, with its sidecar, under the key's lock (so that in
   * this process the sidecar always matches the file), then fsyncs the directory.
   */
  private async commit(key: string, path: string, staged: StagedFile): Promise<void> {
    const metaTmp = tempPath(this.layout.tmpDir);
    try {
      await stageMeta(metaTmp, metaOf(staged));
      await withLock(this.objectLock(key), async () => {
        await this.renameIntoPlace(key, path, staged.path);
        await commitMeta(metaTmp, this.metaPath(key));
      });
    } catch (err) {
      await Promise.all([unlink(staged.path).catch(() => undefined), unlink(metaTmp).catch(() => undefined)]);
      throw err;
    }
    await fsyncDir(dirname(path));
  }

  private async renameIntoPlace(key: string, path: string, from: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.layout.makeParents(key, path);
      try {
        await rename(from, path);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A delete removed the (then empty) parent between makeParents and rename.
        if (code === 'ENOENT' && attempt < 5) continue;
        if (['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(code ?? '') && (await isDirectory(path))) {
          // An empty directory left at the key is removed; one with objects in it is a conflict.
          if (attempt < 5 && (await rmdir(path).then(() => true, () => false))) continue;
          throw new InvalidKeyError(key, `objects exist under "${key}/", and storage-fs cannot hold an object at a key that other keys continue`);
        }
        throw err;
      }
    }
  }

  /** `move` under both locks: the source's file renamed into place as `to` with its sidecar; `ObjectNotFoundError` when there is none. */
  private async renameObject(from: string, source: string, to: string, path: string): Promise<StagedFile> {
    const opened = await this.layout.openObject(from);
    if (!opened) throw new ObjectNotFoundError(from);
    let sha256: string;
    try {
      sha256 = (await recordedSha256(this.metaPath(from), opened.stats)) ?? (await sha256OfFile(opened.fd));
    } finally {
      await promisify(close)(opened.fd);
    }
    const { size, ino, mtimeNs } = opened.stats;
    const file: StagedFile = { path: source, size: Number(size), sha256, ino, mtimeNs };
    const metaTmp = tempPath(this.layout.tmpDir);
    try {
      await stageMeta(metaTmp, metaOf(file));
      await this.renameIntoPlace(to, path, source);
      await commitMeta(metaTmp, this.metaPath(to));
    } catch (err) {
      await unlink(metaTmp).catch(() => undefined);
      throw err;
    }
    await removeMeta(this.metaPath(from));
    await this.pruneEmptyParents(source);
    return file;
  }

  /** A staged copy of the object at `key`; `ObjectNotFoundError` when there is none. */
  private async stageCopyOf(key: string): Promise<StagedFile> {
    const opened = await this.layout.openObject(key);
    if (!opened) throw new ObjectNotFoundError(key);
    try {
      const recorded = await recordedSha256(this.metaPath(key), opened.stats);
      if (recorded !== undefined) {
        const staged = await stageFileCopy(this.layout.tmpDir, this.layout.objectPath(key), recorded);
        // The path may have been replaced (by another process) or swapped for a link since it was opened.
        const now = await lstat(this.layout.objectPath(key), { bigint: true }).catch(() => undefined);
        if (now?.isFile() && now.ino === opened.stats.ino && now.size === opened.stats.size && now.mtimeNs === opened.stats.mtimeNs) return staged;
        await unlink(staged.path).catch(() => undefined);
      }
      // No record to trust: the bytes of the file opened, hashed on the way.
      return await stageBody(this.layout.tmpDir, createReadStream('', { fd: opened.fd, autoClose: false, start: 0 }));
    } finally {
      await promisify(close)(opened.fd);
    }
  }

  /** Hashes the object's file again (its sidecar was stale) and records the result; undefined when it is gone. */
  private async rehash(key: string): Promise<string | undefined> {
    const opened = await this.layout.openObject(key);
    if (!opened) return undefined;
    const sha256 = await sha256OfFile(opened.fd).finally(() => promisify(close)(opened.fd));
    const identity: FileIdentity = opened.stats;
    const metaTmp = tempPath(this.layout.tmpDir);
    try {
      await stageMeta(metaTmp, { sha256, size: Number(identity.size), ino: String(identity.ino), mtimeNs: String(identity.mtimeNs) });
      await withLock(this.objectLock(key), () => commitMeta(metaTmp, this.metaPath(key)));
    } catch (err) {
      await unlink(metaTmp).catch(() => undefined);
      this.logger.warn({ key, err }, 'could not record the hash of an object');
    }
    return sha256;
  }

  private async pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir !== this.layout.objectsDir && dir.startsWith(this.layout.objectsDir); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or gone): the directories above are not empty either
      }
    }
  }

  /** The directory of an upload in progress; `UploadNotFoundError` when there is none for this key and id. */
  private async uploadDir(upload: MultipartUpload): Promise<string> {
    validateObjectKey(upload.key);
    const notFound = new UploadNotFoundError(upload.key, String(upload.uploadId));
    if (typeof upload.uploadId !== 'string' || !UPLOAD_ID.test(upload.uploadId)) throw notFound;
    const dir = join(this.layout.uploadsDir, upload.uploadId);
    try {
      const { key } = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as { key?: string };
      if (key !== upload.key) throw notFound;
    } catch (err) {
      if (err === notFound || (err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound;
      throw err;
    }
    return dir;
  }

  /** The files of `parts`, after checking them against what was uploaded. */
  private async partFiles(dir: string, parts: readonly UploadedPart[]): Promise<string[]> {
    if (parts.length === 0) throw new InvalidPartError('a multipart upload is completed with at least one part');
    const stored = new Map<number, { etag: string; name: string }>();
    for (const name of await readdir(dir)) {
      const match = PART_FILE.exec(name);
      if (match) stored.set(Number(match[1]), { etag: match[2], name });
    }
    const files: string[] = [];
    for (const [i, part] of parts.entries()) {
      if (i > 0 && part.partNumber <= parts[i - 1].partNumber) {
        throw new InvalidPartError(`parts must be listed in ascending part number order; part ${part.partNumber} follows part ${parts[i - 1].partNumber}`);
      }
      const found = stored.get(part.partNumber);
      if (!found) throw new InvalidPartError(`part ${part.partNumber} was not uploaded`);
      if (found.etag !== part.etag) throw new InvalidPartError(`part ${part.partNumber} has etag ${found.etag}, not ${part.etag}; it was uploaded again since`);
      const file = join(dir, found.name);
      const { size } = await stat(file);
      if (i < parts.length - 1 && size < MULTIPART_LIMITS.minPartSize) {
        throw new InvalidPartError(`part ${part.partNumber} is ${size} bytes; every part but the last must be at least ${MULTIPART_LIMITS.minPartSize} bytes (5 MiB)`);
      }
      files.push(file);
    }
    return files;
  }

  private metaPath(key: string): string {
    return metaPathFor(this.layout.metaDir, key);
  }

  private objectLock(key: string): string {
    return `${this.layout.root}\0object\0${key}`;
  }

  private uploadLock(upload: MultipartUpload): string {
    return `${this.layout.root}\0upload\0${upload.uploadId}`;
  }
}

/**
 * Keeps an error of a body stream that comes before the write pipeline listens (while the temp file
 * opens) from crashing the process; the pipeline then sees the stream errored and rejects with it.
 */
function holdErrors(body: ObjectBody): () => void {
  if (body instanceof Uint8Array) return () => undefined;
  const ignore = () => undefined;
  body.on('error', ignore);
  return () => body.off('error', ignore);
}

/** Why a range does not fit an object of `size` bytes, if it does not. */
function rangeProblem(offset: number, length: number | undefined, size: number): string | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0) return `offset must be an integer of at least 0, got ${offset}`;
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 1)) return `length must be an integer of at least 1, got ${length}`;
  if (offset > 0 && offset >= size) return `offset ${offset} is at or past the end of the object (${size} bytes)`;
  return undefined;
}

/** The SHA-256 of the whole file open as `fd`, which stays open. */
async function sha256OfFile(fd: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream('', { fd, autoClose: false, start: 0 }), hash);
  return hash.digest('hex');
}

async function* concatenate(files: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const file of files) yield* createReadStream(file);
}

async function isDirectory(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

// Makes a rename durable. Some platforms cannot open or fsync a directory; the rename is then as
// durable as the platform makes it.
async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    return;
  } finally {
    await handle?.close();
  }
}
