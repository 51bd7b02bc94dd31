import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type GetOptions, InvalidKeyError, type KeyManager, type ListOptions, type ListPage, type MultipartUpload, type ObjectBody, type ObjectInfo, type ObjectKey, type ObjectStore, type PluginLogger, type PutOptions, type PutResult, type UploadedPart, UploadNotFoundError, type UploadPartResult, validateObjectKey } from '@trellis/plugin-sdk';
import { type PartEntry, partsMac } from './envelope/cipher';
import { contextOf, EnvelopeAccess, newHeader, objectIdIn } from './envelope/envelope-access';
import { isEnvelope, OBJECT_ID_LENGTH } from './envelope/format';
import { isReservedKey, type KeyRecord, KEY_RECORDS_PREFIX, newRecord, readRecord, writeRecord } from './envelope/key-record';
import { listObjects } from './envelope/listing';
import { checkPartNumber, checkParts } from './envelope/parts';
import { readRange, readWhole } from './envelope/reads';
import { type RewrapReport, rewrapKeys } from './envelope/rewrap';
import { PlainTally, sealSegment } from './envelope/seal';
import { innerUpload, outerUploadId, sealedPartEtag, type UploadRef } from './envelope/uploads';

export type { RewrapReport } from './envelope/rewrap';

/** How `encryptingObjectStore` decides and wraps. */
export interface EncryptingObjectStoreOptions {
  /** The KMS key id that wraps the data keys of new objects (each object records the id it used). */
  keyId: string;
  /**
   * Whether a new object at `key` is encrypted: typically whether its project asks for encryption at
   * rest. Asked by `put` and `createMultipartUpload` only; reads follow what is stored, so objects
   * written before encryption was turned on (or after it was turned off) stay readable.
   */
  shouldEncrypt(key: ObjectKey): boolean | Promise<boolean>;
  /** Where it reports what does not fail a call (a key record it could not tidy up). Default: nowhere. */
  logger?: PluginLogger;
}

/** An `ObjectStore` that encrypts at rest, plus key rotation; see `encryptingObjectStore`. */
export interface EncryptingObjectStore extends ObjectStore {
  /**
   * Wraps the data key of every encrypted object under `prefix` (all when absent) again under the
   * current version of its KMS key, rewriting only the objects' key records, never their bodies.
   * Run it after rotating the KMS key; once it reports no failures, the previous version is no
   * longer needed to read them. Uploads still in progress keep their wrapping until they complete.
   */
  rewrapKeys(options?: { prefix?: string }): Promise<RewrapReport>;
}

/**
 * Wraps `inner` so that objects `shouldEncrypt` picks are stored encrypted (envelope encryption:
 * a fresh AES-256 data key per object, wrapped by `kms`), with the storage contract unchanged for
 * callers: sizes, SHA-256s and ranges are those of the plaintext.
 *
 * - Bodies are sealed in 64 KiB AES-256-GCM chunks as they stream, in both directions, so objects
 *   of any size pass through in bounded memory. A read fails with `ObjectIntegrityError` (as the
 *   stream's error, never as a short or altered plaintext) when any byte was altered, chunks were
 *   reordered or dropped, or the object was cut short or moved to another key. A range read
 *   verifies the chunks it reads.
 * - The wrapped data key lives in a small key record under `.trellis-keys/` in `inner` (keys there
 *   are refused and never listed), so `rewrapKeys` re-wraps without rewriting bodies: the storage
 *   contract cannot overwrite part of an object.
 * - Unencrypted objects pass through untouched and read as before, whatever `shouldEncrypt` says.
 *   An object that does not carry the encrypted format is read as unencrypted, so whoever can
 *   write to `inner` can still replace an object with plaintext; encryption protects what is
 *   stored encrypted.
 * - Multipart uploads of encrypted keys encrypt each part as its own segment; completion lists the
 *   parts in the key record, bound to the data key. Their `head` and completion report no SHA-256.
 * - `list` and `head` read the first 45 bytes of each object (and a multipart object's record)
 *   to tell encrypted objects and report their plaintext sizes: a listing page costs a small
 *   read per object.
 * - No `presign`: a URL to the stored bytes would bypass decryption. The wrapper holds nothing
 *   to close; whoever made `inner` and `kms` closes them.
 *
 * A record can outlive its object when writers race on one key or a process dies mid-write; such
 * records are a few hundred bytes and hold only wrapped keys.
 */
export function encryptingObjectStore(inner: ObjectStore, kms: KeyManager, options: EncryptingObjectStoreOptions): EncryptingObjectStore {
  return new EnvelopeStore(inner, kms, options);
}

class EnvelopeStore implements EncryptingObjectStore {
  private readonly access: EnvelopeAccess;
  private readonly inner: ObjectStore;

  constructor(
    inner: ObjectStore,
    private readonly kms: KeyManager,
    private readonly options: EncryptingObjectStoreOptions,
  ) {
    this.access = new EnvelopeAccess(inner, kms, options.logger);
    this.inner = inner;
  }

  async put(key: ObjectKey, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    this.checkKey(key);
    const release = holdErrors(body);
    try {
      const previous = await this.access.objectIdOf(key);
      const result = (await this.options.shouldEncrypt(key)) ? await this.putSealed(key, body, options) : await this.inner.put(key, body, options);
      if (previous) await this.access.dropRecord(previous);
      return result;
    } finally {
      release();
    }
  }

  async get(key: ObjectKey, options: GetOptions = {}): Promise<Readable> {
    this.checkKey(key);
    return options.range ? readRange(this.access, key, options.range) : readWhole(this.access, key);
  }

  async head(key: ObjectKey): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    const info = await this.inner.head(key);
    const prefix = info && (await this.access.prefixOf(key));
    if (!info || !prefix) return undefined;
    if (!isEnvelope(prefix)) return info;
    // The SHA-256 that put measured, when the record describes this very body; multipart objects have none.
    const objectId = objectIdIn(prefix);
    const record = objectId && (await readRecord(this.inner, objectId));
    const sha256 = typeof record === 'object' && record.etag === info.etag ? record.sha256 : undefined;
    const { etag, lastModified } = info;
    return { key, size: await this.access.plainSize(info.size, prefix), etag, ...(sha256 === undefined ? {} : { sha256 }), lastModified };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    return listObjects(this.inner, options, async (object) => {
      const prefix = await this.access.prefixOf(object.key);
      return prefix && this.access.plainSize(object.size, prefix);
    });
  }

  async delete(key: ObjectKey): Promise<void> {
    this.checkKey(key);
    const objectId = await this.access.objectIdOf(key);
    await this.inner.delete(key);
    if (objectId) await this.access.dropRecord(objectId);
  }

  async createMultipartUpload(key: ObjectKey): Promise<MultipartUpload> {
    this.checkKey(key);
    if (!(await this.options.shouldEncrypt(key))) return { key, uploadId: outerUploadId(await this.inner.createMultipartUpload(key)) };
    const objectId = randomBytes(OBJECT_ID_LENGTH);
    const dataKey = await this.kms.generateDataKey(this.options.keyId, contextOf(key, objectId));
    dataKey.plaintext.fill(0); // parts unwrap it again; the upload holds nothing between calls
    await writeRecord(this.inner, newRecord(key, objectId, this.options.keyId, dataKey.wrapped));
    try {
      return { key, uploadId: outerUploadId(await this.inner.createMultipartUpload(key), objectId) };
    } catch (err) {
      await this.access.dropRecord(objectId);
      throw err;
    }
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    checkPartNumber(partNumber);
    const release = holdErrors(body);
    try {
      const ref = this.uploadRef(upload);
      if (!ref.objectId) return await this.inner.uploadPart(ref.inner, partNumber, body);
      const dataKey = await this.access.unwrap(upload.key, await this.uploadRecord(upload, ref.objectId));
      const tally = new PlainTally();
      try {
        const sealed = sealSegment(body, dataKey, newHeader(ref.objectId, partNumber), tally);
        const stored = await this.inner.uploadPart(ref.inner, partNumber, Readable.from(sealed, { objectMode: false }));
        return { partNumber, etag: sealedPartEtag(tally.size, stored.etag), size: tally.size };
      } finally {
        dataKey.fill(0);
      }
    } finally {
      release();
    }
  }

  async completeMultipartUpload(upload: MultipartUpload, parts: readonly UploadedPart[]): Promise<ObjectInfo> {
    const ref = this.uploadRef(upload);
    const previous = await this.access.objectIdOf(upload.key);
    if (!ref.objectId) {
      const info = await this.inner.completeMultipartUpload(ref.inner, parts);
      if (previous) await this.access.dropRecord(previous);
      return info;
    }
    const record = await this.uploadRecord(upload, ref.objectId);
    const checked = checkParts(parts);
    if (previous?.equals(ref.objectId)) throw new UploadNotFoundError(upload.key, upload.uploadId); // completed already
    const dataKey = await this.access.unwrap(upload.key, record);
    const entries: PartEntry[] = checked.map((p) => [p.partNumber, p.plainSize]);
    const completed: KeyRecord = { ...record, parts: entries, partsMac: partsMac(dataKey, ref.objectId, entries) };
    dataKey.fill(0);
    // The record lists the parts before the body appears, so a reader never finds the body without them.
    await writeRecord(this.inner, completed);
    let info: ObjectInfo;
    try {
      info = await this.inner.completeMultipartUpload(
        ref.inner,
        checked.map((p) => ({ partNumber: p.partNumber, etag: p.innerEtag })),
      );
    } catch (err) {
      await writeRecord(this.inner, record).catch((restoreErr: unknown) =>
        this.access.logger.warn({ key: upload.key, err: restoreErr }, 'could not restore the key record of a refused completion'),
      );
      throw err;
    }
    if (previous) await this.access.dropRecord(previous);
    return { key: upload.key, size: entries.reduce((sum, [, size]) => sum + size, 0), etag: info.etag, lastModified: info.lastModified };
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    this.checkKey(upload.key);
    const ref = innerUpload(upload);
    if (!ref) return;
    await this.inner.abortMultipartUpload(ref.inner);
    if (ref.objectId && !(await this.access.objectIdOf(upload.key))?.equals(ref.objectId)) await this.access.dropRecord(ref.objectId);
  }

  rewrapKeys(options: { prefix?: string } = {}): Promise<RewrapReport> {
    return rewrapKeys(this.access, options.prefix);
  }

  private async putSealed(key: ObjectKey, body: ObjectBody, options: PutOptions): Promise<PutResult> {
    const objectId = randomBytes(OBJECT_ID_LENGTH);
    const dataKey = await this.kms.generateDataKey(this.options.keyId, contextOf(key, objectId));
    const record = newRecord(key, objectId, this.options.keyId, dataKey.wrapped);
    await writeRecord(this.inner, record);
    const tally = new PlainTally();
    let etag: string;
    try {
      const sealed = sealSegment(body, dataKey.plaintext, newHeader(objectId, 0), tally);
      etag = (await this.inner.put(key, Readable.from(sealed, { objectMode: false }), options)).etag;
    } catch (err) {
      await this.access.dropRecord(objectId);
      throw err;
    } finally {
      dataKey.plaintext.fill(0);
    }
    const sha256 = tally.sha256();
    await writeRecord(this.inner, { ...record, size: tally.size, sha256, etag }).catch((err: unknown) =>
      this.access.logger.warn({ key, err }, 'could not record the size and SHA-256 of an encrypted object; head will not report its SHA-256'),
    );
    return { key, size: tally.size, sha256, etag };
  }

  /** The record of an upload in progress; `UploadNotFoundError` once it is aborted (or for a record of another key). */
  private async uploadRecord(upload: MultipartUpload, objectId: Buffer): Promise<KeyRecord> {
    const record = await readRecord(this.inner, objectId);
    if (typeof record !== 'object' || record.key !== upload.key) throw new UploadNotFoundError(upload.key, String(upload.uploadId));
    return record;
  }

  private uploadRef(upload: MultipartUpload): UploadRef {
    this.checkKey(upload.key);
    const ref = innerUpload(upload);
    if (!ref) throw new UploadNotFoundError(upload.key, String(upload.uploadId));
    return ref;
  }

  private checkKey(key: unknown): asserts key is string {
    validateObjectKey(key);
    if (isReservedKey(key)) {
      throw new InvalidKeyError(key, `keys under "${KEY_RECORDS_PREFIX}" are reserved: they hold the wrapped data keys of encrypted objects`);
    }
  }
}

/**
 * Keeps an error of a body stream that comes before anything reads it (while a data key is made)
 * from crashing the process; reading the stream later still fails with it.
 */
function holdErrors(body: ObjectBody): () => void {
  if (body instanceof Uint8Array) return () => undefined;
  const ignore = () => undefined;
  body.on('error', ignore);
  return () => body.off('error', ignore);
}
