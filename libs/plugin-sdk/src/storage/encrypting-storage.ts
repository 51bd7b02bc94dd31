import { randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { noopLogger, type PluginLogger } from '../context';
import type {
  ByteRange,
  EncryptionContext,
  GetOptions,
  KeyManager,
  ListOptions,
  ListPage,
  MultipartUpload,
  ObjectBody,
  ObjectInfo,
  ObjectKey,
  ObjectStore,
  PutOptions,
  PutResult,
  UploadedPart,
  UploadPartResult,
} from '../contracts';
import { InvalidKeyError, InvalidRangeError, isPluginError, KeyNotFoundError, ObjectIntegrityError, ObjectNotFoundError, UploadNotFoundError } from '../errors';
import { type PartEntry, partsMac, partsMacMatches } from './envelope/cipher';
import { encodeHeader, HEADER_LENGTH, isEnvelope, OBJECT_ID_LENGTH, parseHeader, plainSizeOf, SALT_LENGTH, type SegmentHeader } from './envelope/format';
import { isReservedKey, type KeyRecord, KEY_RECORDS_PREFIX, newRecord, readAll, readRecord, recordKeyOf, writeRecord } from './envelope/key-record';
import { plainTotal, rangeOf, type Segment, segmentsOf, wholeBody } from './envelope/layout';
import { listObjects } from './envelope/listing';
import { type Opening, OpeningStream } from './envelope/opening-stream';
import { checkPartNumber, checkParts } from './envelope/parts';
import { PlainTally, sealSegment } from './envelope/seal';
import { innerUpload, outerUploadId, sealedPartEtag, type UploadRef } from './envelope/uploads';
import { iterateObjects } from './iterate-objects';
import { validateObjectKey } from './object-key';

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

/** What `rewrapKeys` did. */
export interface RewrapReport {
  /** Objects whose data key was wrapped again under the KMS key's current version. */
  rewrapped: number;
  /** Objects whose data key already was under the current version. */
  current: number;
  /** Objects stored unencrypted, left alone. */
  unencrypted: number;
  /** Objects that could not be re-wrapped, with why; the others were done regardless. */
  failed: Array<{ key: string; error: string }>;
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
 * - `list` and `head` read each encrypted object's header (and a multipart object's record) to
 *   report plaintext sizes: a listing page costs a small read per object.
 * - No `presign`: a URL to the stored bytes would bypass decryption. The wrapper holds nothing
 *   to close; whoever made `inner` and `kms` closes them.
 *
 * A record can outlive its object when writers race on one key or a process dies mid-write; such
 * records are a few hundred bytes and hold only wrapped keys.
 */
export function encryptingObjectStore(inner: ObjectStore, kms: KeyManager, options: EncryptingObjectStoreOptions): EncryptingObjectStore {
  return new EnvelopeStore(inner, kms, options);
}

const READ_ATTEMPTS = 3;

/** A body's key record went missing between reading the body's header and the record: the object was replaced meanwhile. */
class MissingRecord extends Error {}

class EnvelopeStore implements EncryptingObjectStore {
  private readonly logger: PluginLogger;

  constructor(
    private readonly inner: ObjectStore,
    private readonly kms: KeyManager,
    private readonly options: EncryptingObjectStoreOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
  }

  async put(key: ObjectKey, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    this.checkKey(key);
    const release = holdErrors(body);
    try {
      const previous = await this.objectIdOf(key);
      const result = (await this.options.shouldEncrypt(key)) ? await this.putSealed(key, body, options) : await this.inner.put(key, body, options);
      if (previous) await this.dropRecord(previous);
      return result;
    } finally {
      release();
    }
  }

  async get(key: ObjectKey, options: GetOptions = {}): Promise<Readable> {
    this.checkKey(key);
    if (options.range) return this.getRange(key, options.range);
    for (let attempt = 1; ; attempt++) {
      const opening = new OpeningStream(key, { open: (header) => this.opening(key, header) });
      pipeline(await this.inner.get(key), opening, () => undefined); // errors reach the reader through `opening`
      try {
        await opening.ready;
        return opening;
      } catch (err) {
        opening.destroy();
        if (!(err instanceof MissingRecord)) throw err;
        if (attempt === READ_ATTEMPTS) throw new ObjectIntegrityError(key, err.message);
      }
    }
  }

  async head(key: ObjectKey): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    const info = await this.inner.head(key);
    const prefix = info && (await this.prefixOf(key));
    if (!info || !prefix) return undefined;
    if (!isEnvelope(prefix)) return info;
    const header = parseHeader(prefix);
    const record = typeof header === 'string' ? undefined : await readRecord(this.inner, header.objectId);
    const { size, etag, lastModified } = info;
    if (typeof header !== 'string' && header.partNumber !== 0) {
      const parts = typeof record === 'object' ? (record.parts ?? []) : [];
      return { key, size: parts.reduce((sum, [, partSize]) => sum + partSize, 0), etag, lastModified };
    }
    const known = typeof record === 'object' && record.etag === etag && record.sha256 !== undefined ? { sha256: record.sha256 } : {};
    return { key, size: plainSizeOf(size) ?? 0, etag, ...known, lastModified };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    return listObjects(this.inner, options, async (object) => {
      const prefix = await this.prefixOf(object.key);
      if (!prefix) return undefined;
      if (!isEnvelope(prefix)) return object.size;
      const header = parseHeader(prefix);
      if (typeof header === 'string' || header.partNumber === 0) return plainSizeOf(object.size) ?? 0;
      const record = await readRecord(this.inner, header.objectId);
      return typeof record === 'object' ? (record.parts ?? []).reduce((sum, [, size]) => sum + size, 0) : 0;
    });
  }

  async delete(key: ObjectKey): Promise<void> {
    this.checkKey(key);
    const objectId = await this.objectIdOf(key);
    await this.inner.delete(key);
    if (objectId) await this.dropRecord(objectId);
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
      await this.dropRecord(objectId);
      throw err;
    }
  }

  async uploadPart(upload: MultipartUpload, partNumber: number, body: ObjectBody): Promise<UploadPartResult> {
    checkPartNumber(partNumber);
    const release = holdErrors(body);
    try {
      const ref = this.uploadRef(upload);
      if (!ref.objectId) return await this.inner.uploadPart(ref.inner, partNumber, body);
      const record = await this.uploadRecord(upload, ref.objectId);
      const dataKey = await this.unwrap(upload.key, record);
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
    const previous = await this.objectIdOf(upload.key);
    if (!ref.objectId) {
      const info = await this.inner.completeMultipartUpload(ref.inner, parts);
      if (previous) await this.dropRecord(previous);
      return info;
    }
    const record = await this.uploadRecord(upload, ref.objectId);
    const checked = checkParts(parts);
    if (previous?.equals(ref.objectId)) throw new UploadNotFoundError(upload.key, upload.uploadId); // completed already
    const dataKey = await this.unwrap(upload.key, record);
    const entries: PartEntry[] = checked.map((p) => [p.partNumber, p.plainSize]);
    const completed: KeyRecord = { ...record, parts: entries, partsMac: partsMac(dataKey, ref.objectId, entries) };
    dataKey.fill(0);
    await writeRecord(this.inner, completed);
    let info: ObjectInfo;
    try {
      info = await this.inner.completeMultipartUpload(
        ref.inner,
        checked.map((p) => ({ partNumber: p.partNumber, etag: p.innerEtag })),
      );
    } catch (err) {
      await writeRecord(this.inner, record).catch((restoreErr: unknown) => this.logger.warn({ key: upload.key, err: restoreErr }, 'could not restore the key record of a refused completion'));
      throw err;
    }
    if (previous) await this.dropRecord(previous);
    return { key: upload.key, size: entries.reduce((sum, [, size]) => sum + size, 0), etag: info.etag, lastModified: info.lastModified };
  }

  async abortMultipartUpload(upload: MultipartUpload): Promise<void> {
    this.checkKey(upload.key);
    const ref = innerUpload(upload);
    if (!ref) return;
    await this.inner.abortMultipartUpload(ref.inner);
    if (ref.objectId && !(await this.objectIdOf(upload.key))?.equals(ref.objectId)) await this.dropRecord(ref.objectId);
  }

  async rewrapKeys(options: { prefix?: string } = {}): Promise<RewrapReport> {
    const report: RewrapReport = { rewrapped: 0, current: 0, unencrypted: 0, failed: [] };
    for await (const { key } of iterateObjects(this.inner, { prefix: options.prefix })) {
      if (isReservedKey(key)) continue;
      try {
        const objectId = await this.objectIdOf(key);
        if (!objectId) {
          report.unencrypted++;
          continue;
        }
        const record = await readRecord(this.inner, objectId);
        if (typeof record !== 'object') throw new Error(record ?? `its key record ${recordKeyOf(objectId)} is missing`);
        const wrapped = Buffer.from(record.wrappedKey, 'base64');
        const rewrapped = Buffer.from(await this.rewrap(record.keyId, wrapped, contextOf(key, objectId)));
        if (rewrapped.equals(wrapped)) {
          report.current++;
        } else {
          await writeRecord(this.inner, { ...record, wrappedKey: rewrapped.toString('base64') });
          report.rewrapped++;
        }
      } catch (err) {
        report.failed.push({ key, error: (err as Error).message });
      }
    }
    return report;
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
      await this.dropRecord(objectId);
      throw err;
    } finally {
      dataKey.plaintext.fill(0);
    }
    const sha256 = tally.sha256();
    await writeRecord(this.inner, { ...record, size: tally.size, sha256, etag }).catch((err: unknown) =>
      this.logger.warn({ key, err }, 'could not record the size and SHA-256 of an encrypted object; head will not report its SHA-256'),
    );
    return { key, size: tally.size, sha256, etag };
  }

  private async getRange(key: ObjectKey, range: ByteRange): Promise<Readable> {
    const problem = rangeShapeProblem(range);
    if (problem) throw new InvalidRangeError(key, problem);
    for (let attempt = 1; ; attempt++) {
      const info = await this.inner.head(key);
      const prefix = info && (await this.prefixOf(key));
      if (!info || !prefix) throw new ObjectNotFoundError(key);
      if (!isEnvelope(prefix)) return this.inner.get(key, { range });
      try {
        const opening = await this.openRange(key, range, prefix, info.size);
        try {
          await opening.ready;
          return opening;
        } catch (err) {
          opening.destroy();
          throw err;
        }
      } catch (err) {
        // A header, record or chunk of another version than the one measured: the object was replaced while being read.
        const replaced = err instanceof MissingRecord || (err instanceof ObjectIntegrityError && (await this.inner.head(key))?.etag !== info.etag);
        if (!replaced) throw err;
        if (attempt === READ_ATTEMPTS) throw err instanceof MissingRecord ? new ObjectIntegrityError(key, err.message) : err;
      }
    }
  }

  private async openRange(key: ObjectKey, range: ByteRange, prefix: Buffer, storedSize: number): Promise<OpeningStream> {
    const header = this.header(key, prefix);
    const { dataKey, segments } = await this.bodyOf(key, header, storedSize);
    const total = plainTotal(segments);
    if (range.offset > 0 && range.offset >= total) {
      dataKey.fill(0);
      throw new InvalidRangeError(key, `offset ${range.offset} is at or past the end of the object (${total} bytes)`);
    }
    const end = Math.min(total, range.length === undefined ? total : range.offset + range.length);
    if (end === range.offset) {
      // Offset 0 of an empty object: nothing to read.
      const empty = new OpeningStream(key, { opening: { dataKey, header, steps: [] } });
      empty.end();
      return empty;
    }
    const plan = rangeOf(segments, range.offset, end);
    const first = plan.segment.storedOffset === 0 ? header : this.header(key, await this.storedRange(key, plan.segment.storedOffset, HEADER_LENGTH));
    const opening = new OpeningStream(key, { opening: { dataKey, header: first, steps: plan.steps } });
    pipeline(await this.storedRange(key, plan.storedStart, plan.storedEnd - plan.storedStart, true), opening, () => undefined);
    return opening;
  }

  /** The data key and segments of the encrypted body whose first header is `header`. */
  private async bodyOf(key: ObjectKey, header: SegmentHeader, storedSize: number): Promise<{ dataKey: Uint8Array; segments: Segment[] }> {
    const { record, dataKey } = await this.dataKeyOf(key, header);
    if (header.partNumber === 0) {
      const size = plainSizeOf(storedSize);
      if (size === undefined) throw new ObjectIntegrityError(key, `no encrypted object is ${storedSize} bytes long`);
      return { dataKey, segments: segmentsOf([[0, size]]) };
    }
    return { dataKey, segments: this.partsOf(key, header, record, dataKey) };
  }

  /** How `get` reads a body from its start, once its first header is read. */
  private async opening(key: ObjectKey, header: SegmentHeader): Promise<Opening> {
    const { record, dataKey } = await this.dataKeyOf(key, header);
    if (header.partNumber === 0) return { dataKey, header, steps: 'to-end' };
    return { dataKey, header, steps: wholeBody(this.partsOf(key, header, record, dataKey)) };
  }

  private partsOf(key: ObjectKey, header: SegmentHeader, record: KeyRecord, dataKey: Uint8Array): Segment[] {
    const parts = record.parts;
    if (!parts || !record.partsMac || !partsMacMatches(dataKey, header.objectId, parts, record.partsMac)) {
      throw new ObjectIntegrityError(key, 'the list of parts in its key record does not verify');
    }
    if (parts[0]?.[0] !== header.partNumber) throw new ObjectIntegrityError(key, `it starts with part ${header.partNumber}, but its first part is ${parts[0]?.[0]}`);
    return segmentsOf(parts);
  }

  private async dataKeyOf(key: ObjectKey, header: SegmentHeader): Promise<{ record: KeyRecord; dataKey: Uint8Array }> {
    const record = await readRecord(this.inner, header.objectId);
    if (record === undefined) throw new MissingRecord(`its key record ${recordKeyOf(header.objectId)} is missing`);
    if (typeof record === 'string') throw new ObjectIntegrityError(key, record);
    if (record.key !== key) throw new ObjectIntegrityError(key, `its key record is that of object ${JSON.stringify(record.key)}`);
    return { record, dataKey: await this.unwrap(key, record) };
  }

  private async unwrap(key: ObjectKey, record: KeyRecord): Promise<Uint8Array> {
    try {
      return await this.kms.unwrapKey(record.keyId, Buffer.from(record.wrappedKey, 'base64'), contextOf(key, Buffer.from(record.objectId, 'hex')));
    } catch (err) {
      if (isPluginError(err, 'INVALID_WRAPPED_KEY')) throw new ObjectIntegrityError(key, `its data key does not unwrap: ${err.message}`, { cause: err });
      if (isPluginError(err, 'KEY_NOT_FOUND')) {
        throw new KeyNotFoundError((err as KeyNotFoundError).keyId, `cannot decrypt object ${JSON.stringify(key)}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  private async rewrap(keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Uint8Array> {
    if (this.kms.rewrapKey) return this.kms.rewrapKey(keyId, wrapped, context);
    const plaintext = await this.kms.unwrapKey(keyId, wrapped, context);
    try {
      return await this.kms.wrapKey(keyId, plaintext, context);
    } finally {
      plaintext.fill(0);
    }
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

  private header(key: ObjectKey, bytes: Buffer): SegmentHeader {
    const header = parseHeader(bytes);
    if (typeof header === 'string') throw new ObjectIntegrityError(key, header);
    return header;
  }

  /** The object id of the encrypted object at `key`; undefined when there is none (or it is unencrypted). */
  private async objectIdOf(key: ObjectKey): Promise<Buffer | undefined> {
    const prefix = await this.prefixOf(key);
    if (!prefix || !isEnvelope(prefix)) return undefined;
    const header = parseHeader(prefix);
    return typeof header === 'string' ? undefined : header.objectId;
  }

  /** The first bytes of the object (as many as a header has); undefined when it does not exist. */
  private async prefixOf(key: ObjectKey): Promise<Buffer | undefined> {
    try {
      return await this.storedRange(key, 0, HEADER_LENGTH);
    } catch (err) {
      if (isPluginError(err, 'OBJECT_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  private async storedRange(key: ObjectKey, offset: number, length: number): Promise<Buffer>;
  private async storedRange(key: ObjectKey, offset: number, length: number, stream: true): Promise<Readable>;
  private async storedRange(key: ObjectKey, offset: number, length: number, stream?: true): Promise<Buffer | Readable> {
    let body: Readable;
    try {
      body = await this.inner.get(key, { range: { offset, length } });
    } catch (err) {
      if (offset > 0 && isPluginError(err, 'INVALID_RANGE')) throw new ObjectIntegrityError(key, `it is shorter than its chunks say (${offset} bytes or less)`, { cause: err });
      throw err;
    }
    return stream ? body : readAll(body);
  }

  private async dropRecord(objectId: Buffer): Promise<void> {
    await this.inner.delete(recordKeyOf(objectId)).catch((err: unknown) => this.logger.warn({ record: recordKeyOf(objectId), err }, 'could not remove the key record of a replaced object'));
  }

  private checkKey(key: unknown): asserts key is string {
    validateObjectKey(key);
    if (isReservedKey(key)) {
      throw new InvalidKeyError(key, `keys under "${KEY_RECORDS_PREFIX}" are reserved: they hold the wrapped data keys of encrypted objects`);
    }
  }
}

/** The encryption context of a data key: it opens only for this object at this key. */
function contextOf(key: ObjectKey, objectId: Buffer): EncryptionContext {
  return { 'trellis.object-key': key, 'trellis.object-id': objectId.toString('hex') };
}

function newHeader(objectId: Buffer, partNumber: number): SegmentHeader {
  const salt = randomBytes(SALT_LENGTH);
  return { objectId, salt, partNumber, bytes: encodeHeader(objectId, salt, partNumber) };
}

function rangeShapeProblem(range: ByteRange): string | undefined {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) return `offset must be an integer of at least 0, got ${range.offset}`;
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 1)) return `length must be an integer of at least 1, got ${range.length}`;
  return undefined;
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
