import { Injectable } from '@nestjs/common';
import { type Caller, checkRequired, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@trellis/platform';
import { InvalidPartError, MULTIPART_LIMITS, type ObjectStore } from '@trellis/plugin-sdk';
import { randomUUID } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { BlobUploadEntity } from './blob-upload.entity';
import { BlobIntake } from './blob-intake';
import { BlobUploadRepository } from './blob-upload.repository';
import { BlobRepository } from './blob.repository';
import { blobKey, BlobStore, checkSha256, stagingKey } from './blob-store';
import { DigestCheck, type ExpectedBlob, sizeMismatch } from './digest-check';

/**
 * The resource kind blob calls are checked against: blobs are the files of dataset versions, so an
 * editor of the project (who may create versions) uploads and a viewer downloads.
 */
export const BLOB_KIND = 'DatasetVersion';

/** How long an upload in parts or through a presigned URL stays open. */
export const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

/** The largest blob (S3's largest object). */
export const MAX_BLOB_BYTES = 5 * 1024 ** 4;

/** A blob as stored. */
export interface StoredBlob {
  sha256: string;
  size: number;
  storeName: string;
}

/** What an upload of one blob announces. */
export interface BlobHeader {
  projectId: string;
  /** Empty in an upload (not in parts) whose bytes are stored under the digest they turn out to have. */
  sha256: string;
  size: number;
}

/** An upload opened by `start`, or none when the blob is already stored. */
export interface StartedUpload {
  uploadId: string;
  alreadyStored: boolean;
  presignedUrl: string;
  expiresAt: number;
}

/** A part an upload holds. */
export interface UploadPart {
  partNumber: number;
  size: number;
}

/**
 * Content-addressed blobs: which a project does not hold, uploads that store a blob under its
 * digest only when its bytes match it, and downloads of the blobs a project holds. A blob is
 * written once per instance: an upload of one already stored writes nothing.
 */
@Injectable()
export class BlobService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly repository: BlobRepository,
    private readonly uploads: BlobUploadRepository,
    private readonly intake: BlobIntake,
  ) {}

  /** Which of `sha256s` the project does not hold in its instance, and the instance's name. */
  async findMissing(caller: Caller, projectId: string, sha256s: readonly string[]): Promise<{ missing: string[]; storeName: string }> {
    checkRequired(projectId, 'project_id');
    caller.assert('create', BLOB_KIND, { projectId });
    const storeName = await this.blobs.storeNameFor(projectId);
    return { missing: await this.blobs.missingIn(projectId, storeName, sha256s), storeName };
  }

  /**
   * Stores `body` under its digest, hashed while it is written: a mismatch of digest or size fails
   * the write, so nothing is stored. A blob the project holds already is not written again (its
   * bytes are read and dropped, so that the client's stream ends normally); one only other projects
   * hold is hashed and, when it matches, held by this project too, its stored bytes left as they are.
   * Without a digest, the bytes are stored under the one they have (see `uploadUnnamed`).
   */
  async upload(caller: Caller, header: BlobHeader, body: Readable): Promise<{ blob: StoredBlob; alreadyStored: boolean }> {
    if (header.sha256 === '') return this.uploadUnnamed(caller, header, body);
    const expected = this.checkHeader(caller, header, 'header.');
    const storeName = await this.blobs.storeNameFor(header.projectId);
    const held = await this.repository.findHeld(header.projectId, storeName, expected.sha256);
    if (held) {
      await drain(body);
      return { blob: { sha256: held.sha256, size: held.size, storeName }, alreadyStored: true };
    }
    await this.storeOnce(storeName, body, expected);
    await this.record(header.projectId, storeName, expected);
    return { blob: { ...expected, storeName }, alreadyStored: false };
  }

  /**
   * Stores `body` under the digest it is hashed to while it is written (staged under a key of its
   * own, then copied under its digest unless the instance has those bytes already; the staged bytes
   * are deleted either way), so a client need not read a file twice. A body of another size than
   * announced stores nothing. `alreadyStored` says, as for an upload that names its digest, that
   * the project held the blob before: another project's blob is never told of.
   */
  private async uploadUnnamed(caller: Caller, header: BlobHeader, body: Readable): Promise<{ blob: StoredBlob; alreadyStored: boolean }> {
    const size = this.checkTarget(caller, header, 'header.');
    const storeName = await this.blobs.storeNameFor(header.projectId);
    const taken = await this.intake.take(storeName, size, exactly(body, size));
    const held = await this.repository.findHeld(header.projectId, storeName, taken.sha256);
    await this.intake.hold(header.projectId, storeName, taken);
    return { blob: { sha256: taken.sha256, size: taken.size, storeName }, alreadyStored: held !== null };
  }

  /** The blob's bytes (or `length` of them from `offset`; 0 is to the end), if the project holds it; NOT_FOUND otherwise, whoever else does. */
  async download(caller: Caller, projectId: string, sha256: string, offset: number, length: number): Promise<{ blob: StoredBlob; body: Readable }> {
    checkRequired(projectId, 'project_id');
    caller.assert('read', BLOB_KIND, { projectId });
    checkSha256(sha256, 'sha256');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError('must be a byte offset of 0 or more', 'offset');
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidArgumentError('must be a byte count of 0 (to the end) or more', 'length');
    const storeName = await this.blobs.storeNameFor(projectId);
    const stored = await this.repository.findHeld(projectId, storeName, sha256);
    if (!stored) throw new NotFoundError(`project ${projectId} holds no blob ${sha256.slice(0, 12)}...`, { reason: 'BLOB_NOT_FOUND' });
    if (offset > 0 && offset >= stored.size) throw new InvalidArgumentError(`starts past the end of the blob's ${stored.size} bytes`, 'offset');
    const store = await this.blobs.open(storeName);
    const range = offset === 0 && length === 0 ? undefined : { offset, ...(length > 0 ? { length } : {}) };
    const body = await store.get(blobKey(sha256), range ? { range } : {});
    return { blob: { sha256, size: stored.size, storeName }, body };
  }

  /** Opens an upload in parts, or through a presigned URL; none when the project holds the blob already. */
  async start(caller: Caller, header: BlobHeader, presign: boolean): Promise<StartedUpload> {
    const expected = this.checkHeader(caller, header, '');
    const storeName = await this.blobs.storeNameFor(header.projectId);
    if (await this.repository.findHeld(header.projectId, storeName, expected.sha256)) return { uploadId: '', alreadyStored: true, presignedUrl: '', expiresAt: 0 };
    const store = await this.blobs.open(storeName);
    const id = randomUUID();
    const now = Date.now();
    const expiresAt = now + UPLOAD_TTL_MS;
    let presignedUrl = '';
    let storageUploadId = '';
    if (presign) {
      if (!store.presign) throw new FailedPreconditionError(`the storage instance ${storeName} of project ${header.projectId} issues no presigned URLs; upload in parts`, { reason: 'PRESIGN_UNSUPPORTED' });
      presignedUrl = await store.presign(stagingKey(id), { method: 'PUT', expiresInSeconds: UPLOAD_TTL_MS / 1000 });
    } else {
      storageUploadId = (await store.createMultipartUpload(stagingKey(id))).uploadId;
    }
    const upload: BlobUploadEntity = { id, projectId: header.projectId, storeName, ...expected, storageUploadId, creatorId: caller.authenticated.id, createdAt: now, expiresAt };
    await this.uploads.insert(upload);
    return { uploadId: id, alreadyStored: false, presignedUrl, expiresAt };
  }

  /** Stores one part of an upload, replacing a part of the same number. */
  async uploadPart(caller: Caller, uploadId: string, partNumber: number, size: number, body: Readable): Promise<UploadPart> {
    checkRequired(uploadId, 'header.upload_id');
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
      throw new InvalidArgumentError(`must be from 1 to ${MULTIPART_LIMITS.maxPartNumber}`, 'header.part_number');
    }
    const upload = await this.openUpload(caller, uploadId);
    if (!Number.isSafeInteger(size) || size < 1 || size > upload.size) throw new InvalidArgumentError(`must be the part's size in bytes, from 1 to the blob's ${upload.size}`, 'header.size');
    if (!upload.storageUploadId) throw new FailedPreconditionError(`upload ${uploadId} takes its bytes through its presigned URL, not in parts`, { reason: 'UPLOAD_PRESIGNED' });
    const store = await this.blobs.open(upload.storeName);
    const limited = new ExactLength(size);
    pipeline(body, limited, () => undefined);
    const part = await store
      .uploadPart({ key: stagingKey(upload.id), uploadId: upload.storageUploadId }, partNumber, limited)
      .catch((error: unknown) => Promise.reject(limited.failure ?? error));
    // A dropped client stream can end like a complete one: only a part of its announced size is recorded.
    if (limited.failure) throw limited.failure;
    await this.uploads.recordPart({ uploadId: upload.id, partNumber, etag: part.etag, size: part.size });
    return { partNumber, size: part.size };
  }

  /** The parts an upload holds, by number, and when it expires. */
  async listParts(caller: Caller, uploadId: string): Promise<{ parts: UploadPart[]; expiresAt: number }> {
    checkRequired(uploadId, 'upload_id');
    const upload = await this.openUpload(caller, uploadId);
    const parts = await this.uploads.parts(upload.id);
    return { parts: parts.map(({ partNumber, size }) => ({ partNumber, size })), expiresAt: upload.expiresAt };
  }

  /**
   * Joins the upload's parts (or takes its presigned URL's object) and stores the blob under its
   * digest when the bytes match, reading them once more to hash them (bytes the instance holds
   * already are hashed too, and not written again); the staged bytes are deleted
   * and the upload ends either way, unless its parts cannot be joined (the client may fix them).
   */
  async complete(caller: Caller, uploadId: string): Promise<StoredBlob> {
    checkRequired(uploadId, 'upload_id');
    const upload = await this.openUpload(caller, uploadId);
    const store = await this.blobs.open(upload.storeName);
    const staged = stagingKey(upload.id);
    if (upload.storageUploadId) {
      const parts = await this.uploads.parts(upload.id);
      const gap = parts.findIndex((part, index) => part.partNumber !== index + 1);
      if (parts.length === 0 || gap >= 0) {
        const missing = parts.length === 0 ? 1 : gap + 1;
        throw new FailedPreconditionError(`upload ${uploadId} lacks part ${missing}: parts must be numbered from 1 without gaps`, { reason: 'PARTS_INVALID' });
      }
      try {
        await store.completeMultipartUpload({ key: staged, uploadId: upload.storageUploadId }, parts);
      } catch (error) {
        if (error instanceof InvalidPartError) throw new FailedPreconditionError(`upload ${uploadId}: ${error.message}`, { reason: 'PARTS_INVALID' });
        throw error;
      }
    } else if (!(await store.head(staged))) {
      throw new FailedPreconditionError(`nothing was uploaded through the presigned URL of upload ${uploadId}`, { reason: 'UPLOAD_EMPTY' });
    }
    const expected = { sha256: upload.sha256, size: upload.size };
    try {
      await this.storeOnce(upload.storeName, await store.get(staged), expected, store);
      await this.record(upload.projectId, upload.storeName, expected);
    } finally {
      await store.delete(staged);
      await this.uploads.delete(upload.id);
    }
    return { ...expected, storeName: upload.storeName };
  }

  /** Ends an upload and drops its bytes; one that is gone already succeeds. */
  async abort(caller: Caller, uploadId: string): Promise<void> {
    checkRequired(uploadId, 'upload_id');
    const upload = await this.uploads.find(uploadId);
    if (!upload) return;
    this.checkWriter(caller, upload);
    await this.drop(upload);
  }

  /** Drops an upload's staged bytes and forgets it. */
  async drop(upload: BlobUploadEntity): Promise<void> {
    const store = await this.blobs.open(upload.storeName);
    const staged = stagingKey(upload.id);
    if (upload.storageUploadId) await store.abortMultipartUpload({ key: staged, uploadId: upload.storageUploadId });
    await store.delete(staged);
    await this.uploads.delete(upload.id);
  }

  private checkHeader(caller: Caller, header: BlobHeader, prefix: string): ExpectedBlob {
    checkRequired(header.projectId, `${prefix}project_id`);
    caller.assert('create', BLOB_KIND, { projectId: header.projectId });
    checkSha256(header.sha256, `${prefix}sha256`);
    return { sha256: header.sha256, size: checkSize(header.size, prefix) };
  }

  /** The header's size, once the caller is known to be a writer of its project. */
  private checkTarget(caller: Caller, header: BlobHeader, prefix: string): number {
    checkRequired(header.projectId, `${prefix}project_id`);
    caller.assert('create', BLOB_KIND, { projectId: header.projectId });
    return checkSize(header.size, prefix);
  }

  /** The upload, if it is open and the caller may write its project; NOT_FOUND otherwise, so ids of other projects tell nothing. */
  private async openUpload(caller: Caller, uploadId: string): Promise<BlobUploadEntity> {
    const upload = await this.uploads.find(uploadId);
    if (!upload) throw uploadNotFound(uploadId);
    this.checkWriter(caller, upload);
    if (upload.expiresAt <= Date.now()) throw new FailedPreconditionError(`upload ${uploadId} expired at ${new Date(upload.expiresAt).toISOString()}; start another`, { reason: 'UPLOAD_EXPIRED' });
    return upload;
  }

  private checkWriter(caller: Caller, upload: BlobUploadEntity): void {
    if (!caller.can('create', BLOB_KIND, { projectId: upload.projectId })) throw uploadNotFound(upload.id);
  }

  /**
   * Writes `source` under its digest's key through a DigestCheck: on a mismatch the write fails and
   * nothing is stored. Bytes the instance stores already (for any project) are only hashed, so a
   * caller proves it has them without the stored object being written again.
   */
  private async storeOnce(storeName: string, source: Readable, expected: ExpectedBlob, opened?: ObjectStore): Promise<void> {
    const check = new DigestCheck(expected);
    if (await this.repository.find(storeName, expected.sha256)) {
      await new Promise<void>((resolve, reject) => pipeline(source, check, new Writable({ write: (_chunk, _encoding, done) => done() }), (error) => (error ? reject(check.failure ?? error) : resolve())));
      return;
    }
    const store = opened ?? (await this.blobs.open(storeName));
    pipeline(source, check, () => undefined);
    try {
      await store.put(blobKey(expected.sha256), check);
    } catch (error) {
      throw check.failure ?? error;
    }
  }

  private record(projectId: string, storeName: string, expected: ExpectedBlob): Promise<void> {
    return this.repository.transaction((tx) => this.repository.record(tx, projectId, storeName, expected.sha256, expected.size, Date.now()));
  }
}

function checkSize(size: number, prefix: string): number {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_BYTES) throw new InvalidArgumentError(`must be the blob's size in bytes, from 0 to ${MAX_BLOB_BYTES}`, `${prefix}size`);
  return size;
}

/** `body`'s chunks, failing (so that nothing is stored) once there are more than `size` bytes, or at the end when there are fewer. */
async function* exactly(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > size) throw sizeMismatch(size, 'more');
    yield chunk;
  }
  if (bytes !== size) throw sizeMismatch(size, bytes);
}

function uploadNotFound(uploadId: string): NotFoundError {
  return new NotFoundError(`there is no open upload ${uploadId.slice(0, 36)} in a project you may write`, { reason: 'UPLOAD_NOT_FOUND' });
}

/** Reads a stream to its end, dropping the bytes. */
async function drain(body: Readable): Promise<void> {
  for await (const chunk of body) void chunk;
}

/** Passes exactly `size` bytes, failing the stream (so that the store keeps nothing) on more or fewer: a dropped connection never leaves a short part. */
class ExactLength extends Transform {
  failure: InvalidArgumentError | undefined;
  private bytes = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.size) return done(this.mismatch('more than'));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.bytes === this.size ? undefined : this.mismatch(String(this.bytes)));
  }

  private mismatch(got: string): InvalidArgumentError {
    return (this.failure = new InvalidArgumentError(`the part holds ${got} bytes, not ${this.size} as announced; it was not stored`, 'header.size', { reason: 'SIZE_MISMATCH' }));
  }
}
