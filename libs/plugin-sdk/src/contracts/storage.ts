import type { Readable } from 'node:stream';
import type { PluginInstance } from './plugin-instance';

/**
 * Object keys (all storage plugins, v1): a key is a `/`-separated path of UTF-8 text.
 * - 1 to 1024 bytes of UTF-8, each segment at most 255 bytes;
 * - no empty segment (no leading `/`, no `//`, no trailing `/`), no `.` or `..` segment;
 * - no backslash, no NUL or other control character (U+0000 to U+001F, U+007F), no lone surrogate;
 * - no leading drive letter (`C:`), which some filesystems read as absolute.
 * A plugin refuses any other key with `InvalidKeyError` before it touches its backend;
 * `validateObjectKey()` implements these rules.
 */
export type ObjectKey = string;

/** The body of a write: a stream (read with backpressure) or bytes already in memory. */
export type ObjectBody = Readable | Uint8Array;

/** What a completed write reports. */
export interface PutResult {
  /** The key written. */
  key: ObjectKey;
  /** Bytes stored. */
  size: number;
  /** SHA-256 of the bytes stored, lowercase hex, computed while they were written. */
  sha256: string;
  /** Opaque version tag: equal etags of one key mean equal content; it changes when the content does. */
  etag: string;
}

/** What is known about a stored object. */
export interface ObjectInfo {
  /** The object's key. */
  key: ObjectKey;
  /** Size in bytes. */
  size: number;
  /** Opaque version tag, as in `PutResult.etag`. */
  etag: string;
  /** SHA-256 of the content, lowercase hex, where the backend recorded it (storage-fs always does). */
  sha256?: string;
  /** When the current content was written. */
  lastModified: Date;
}

/** One entry of a listing. */
export interface ObjectSummary {
  /** The object's key. */
  key: ObjectKey;
  /** Size in bytes. */
  size: number;
  /** When the current content was written. */
  lastModified: Date;
}

/** Options of `put`. */
export interface PutOptions {
  /** Abandons the write: the promise rejects and no object (or the previous version) stays visible. */
  signal?: AbortSignal;
}

/**
 * A byte range of `get`. `offset` 0 is always valid; any other offset must be below the object's
 * size, or `get` throws `InvalidRangeError`. Bytes past the end are cut off, as in HTTP.
 */
export interface ByteRange {
  /** First byte, 0-based. */
  offset: number;
  /** How many bytes at most (an integer of at least 1); to the end when absent. */
  length?: number;
}

/** Options of `get`. */
export interface GetOptions {
  /** Only these bytes of the object. */
  range?: ByteRange;
}

/** Options of `list`. */
export interface ListOptions {
  /** Only keys that start with this string (not necessarily at a `/`); all keys when absent. */
  prefix?: string;
  /** `nextCursor` of the previous page; from the first key when absent. */
  cursor?: string;
  /** Most entries in the page: at least 1; above 1000 (the default) counts as 1000. */
  limit?: number;
}

/** A page of a listing. */
export interface ListPage {
  /** Entries in ascending key order, compared as UTF-8 bytes (see `compareKeys`). */
  objects: ObjectSummary[];
  /** Pass to `list` for the next page; absent on the last page. Opaque. */
  nextCursor?: string;
}

/** A multipart upload in progress: what every multipart call after `createMultipartUpload` takes. */
export interface MultipartUpload {
  /** The key the object will have. */
  key: ObjectKey;
  /** The backend's id of the upload. Opaque. */
  uploadId: string;
}

/** A part as stored, and as listed back to `completeMultipartUpload`. */
export interface UploadedPart {
  /** 1 to 10000. */
  partNumber: number;
  /** Opaque tag of the part's content, returned by `uploadPart`. */
  etag: string;
}

/** What `uploadPart` reports. */
export interface UploadPartResult extends UploadedPart {
  /** Bytes in the part. */
  size: number;
}

/** Limits of multipart uploads (S3's, so a program that works on one backend works on all). */
export const MULTIPART_LIMITS = Object.freeze({
  /** Every part but the last must be at least this long (5 MiB). */
  minPartSize: 5 * 1024 * 1024,
  /** Highest part number. */
  maxPartNumber: 10_000,
});

/** Options of `copy`. */
export interface CopyOptions {
  /** Abandons the copy: the promise rejects and the destination keeps what it held before. */
  signal?: AbortSignal;
}

/** Options of `presign`. */
export interface PresignOptions {
  /** What the URL allows: reading or writing the object. */
  method: 'GET' | 'PUT';
  /** How long the URL stays valid, in seconds. */
  expiresInSeconds: number;
}

/**
 * Storage contract, v1: objects by key, streamed both ways.
 *
 * Promises of every storage plugin, checked by `describeStorageConformance`:
 * - a reader never sees a partly written object: a write is visible whole or not at all, also after
 *   a crash or an aborted stream; concurrent writes of one key leave one of them whole;
 * - keys that break the `ObjectKey` rules are refused with `InvalidKeyError`;
 * - reading a missing object throws `ObjectNotFoundError`.
 */
export interface ObjectStore extends PluginInstance {
  /** Stores `body` under `key`, replacing any object there, and reports its size and SHA-256. */
  put(key: ObjectKey, body: ObjectBody, options?: PutOptions): Promise<PutResult>;
  /**
   * Opens the object for reading. Throws `ObjectNotFoundError` (before any byte flows) when it is
   * missing. The stream reads the version that was current when `get` resolved.
   */
  get(key: ObjectKey, options?: GetOptions): Promise<Readable>;
  /** What is known about the object, or `undefined` when there is none. */
  head(key: ObjectKey): Promise<ObjectInfo | undefined>;
  /** One page of the objects whose keys start with `prefix`, in ascending key order. */
  list(options?: ListOptions): Promise<ListPage>;
  /** Removes the object; removing a missing object succeeds. */
  delete(key: ObjectKey): Promise<void>;
  /** Starts a multipart upload of `key`; nothing is visible until it completes. */
  createMultipartUpload(key: ObjectKey): Promise<MultipartUpload>;
  /**
   * Stores one part (number 1 to 10000); uploading a number again replaces that part. Parts may
   * arrive in any order. Throws `UploadNotFoundError` when the upload is gone.
   */
  uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult>;
  /**
   * Joins `parts` (ascending part numbers, each with the etag `uploadPart` returned) into the object,
   * which then appears whole, and ends the upload. Throws `InvalidPartError` when a part is missing,
   * out of order, has another etag, or is under `MULTIPART_LIMITS.minPartSize` but not the last;
   * `UploadNotFoundError` when the upload is gone.
   */
  completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo>;
  /** Ends the upload and drops its parts; aborting an upload that is already gone succeeds. */
  abortMultipartUpload(upload: MultipartUpload): Promise<void>;
  /**
   * Copies the object at `from` to `to` inside the backend (S3 CopyObject, a reflink), without its
   * bytes passing through the caller, and reports the copy as `put` would. Replaces any object at
   * `to`, atomically as `put` does: a reader sees the old object or the whole copy. The copy is
   * independent of the source: writing or deleting one later leaves the other as it is. Throws
   * `InvalidKeyError` for either key before touching anything, and `ObjectNotFoundError` (naming
   * `from`) when the source is missing, leaving `to` as it was. Optional: where a store lacks it,
   * a caller streams `get(from)` into `put(to)`.
   */
  copy?(from: ObjectKey, to: ObjectKey, options?: CopyOptions): Promise<PutResult>;
  /**
   * Moves the object at `from` to `to` inside the backend (a rename where it has one, else a copy
   * then a delete of `from`), and reports it as `put` would. Makes `copy`'s promises (the object
   * at `to` is replaced atomically: a reader sees the old object or the whole moved one; the same
   * errors for invalid keys and a missing source, leaving `to` as it was), and `from` is gone once
   * it resolves. At every moment one of the two keys holds the object whole, also when the move
   * fails midway (then `from` may still be there). Moving an object onto its own key leaves it as
   * it is. A write of `from` that races with a move may be lost where the backend has no rename:
   * move keys that no one else writes. Optional: where a store lacks it, a caller copies (or gets
   * and puts), then deletes `from`.
   */
  move?(from: ObjectKey, to: ObjectKey): Promise<PutResult>;
  /** A URL through which a client reads or writes the object directly, where the backend can issue one. */
  presign?(key: ObjectKey, options: PresignOptions): Promise<string>;
}
