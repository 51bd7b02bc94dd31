import { GatewayRequestError, type GatewayClient } from '@trellis/client';
import type {
  CompleteBlobUploadResponseJson,
  FindMissingBlobsResponseJson,
  ListBlobUploadPartsResponseJson,
  StartBlobUploadResponseJson,
} from '@trellis/proto/trellis/data/v1/blob_service_pb';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CliError, EXIT } from '../exit-codes';
import type { ByteRoutes } from './byte-routes';
import { forEachConcurrently } from './concurrently';
import { excerpt, type HashedFile, type LocalFile } from './local-files';
import type { Progress } from './transfer-progress';
import type { UploadState } from './upload-state';

const MiB = 1024 * 1024;
/** FindMissingBlobs takes at most this many digests a call. */
const DIGESTS_PER_CALL = 10_000;
/** The smallest part the gateway takes (but the last). */
export const MIN_PART_BYTES = 5 * MiB;
const MAX_PARTS = 10_000;
/** Whole files uploaded at once: many small files are bound by round trips, one big one by bandwidth. */
const CONCURRENT_FILES = 4;
/** Reads of a file sent whole: large reads cost fewer stream steps and socket writes per byte than the 64 KiB default. */
const SEND_CHUNK_BYTES = 1024 * 1024;

/**
 * How one blob goes up: in one PUT to its digest, in one PUT hashed on both ends while it is sent
 * (its digest not known yet), or in parts of which `stored` are on the gateway already.
 */
export type BlobUpload =
  | { file: HashedFile; kind: 'whole'; remaining: number }
  | { file: LocalFile; kind: 'hashed while sent'; remaining: number }
  | { file: HashedFile; kind: 'parts'; uploadId: string; partSize: number; stored: ReadonlySet<number>; parts: number; remaining: number };

/**
 * Sends a project's missing blobs through the gateway's byte routes: files up to `partsOver`
 * bytes in one PUT each (a rerun after an interruption sends an unfinished one again; one whose
 * digest is not known yet is hashed as it is read for sending, and stored by the gateway under the
 * digest it computes, which must agree), larger ones
 * in parts of an upload the gateway keeps for a day, whose id is remembered locally, so that a
 * rerun sends only the parts the gateway lacks (ListBlobUploadParts).
 */
export class BlobUploader {
  constructor(
    private readonly client: GatewayClient,
    private readonly bytes: ByteRoutes,
    private readonly state: UploadState,
    private readonly projectId: string,
    private readonly sizes: { partsOver: number; partSize: number },
  ) {}

  /** The digests among `sha256s` the project does not hold. */
  async missing(sha256s: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(sha256s)];
    const missing = new Set<string>();
    for (let at = 0; at < unique.length; at += DIGESTS_PER_CALL) {
      const answer = await this.client.call<FindMissingBlobsResponseJson>('trellis.data.v1.BlobService/FindMissingBlobs', { projectId: this.projectId, sha256s: unique.slice(at, at + DIGESTS_PER_CALL) });
      for (const sha256 of answer.missing ?? []) missing.add(sha256);
    }
    return missing;
  }

  /** How `file` goes up; for a file in parts, the upload is opened, or the one left open found with its stored parts. */
  async plan(file: HashedFile): Promise<BlobUpload | undefined> {
    if (file.size <= this.sizes.partsOver) return { file, kind: 'whole', remaining: file.size };
    const open = this.state.upload(this.projectId, file.sha256);
    if (open) {
      const resumed = await this.storedParts(open.uploadId);
      if (resumed) return partsPlan(file, open.uploadId, open.partSize, resumed);
      this.state.setUpload(this.projectId, file.sha256, undefined);
    }
    const started = await this.client.call<StartBlobUploadResponseJson>('trellis.data.v1.BlobService/StartBlobUpload', { projectId: this.projectId, sha256: file.sha256, size: String(file.size) });
    if (started.alreadyStored || !started.uploadId) return undefined;
    const partSize = Math.max(this.sizes.partSize, MIN_PART_BYTES, Math.ceil(file.size / MAX_PARTS));
    this.state.setUpload(this.projectId, file.sha256, { uploadId: started.uploadId, partSize });
    return partsPlan(file, started.uploadId, partSize, new Map());
  }

  /** Sends every planned blob, counting the bytes sent into `progress`; `hashed` hears the digest of each file hashed while it was sent, once the gateway stored it. */
  async upload(uploads: readonly BlobUpload[], progress: Progress, hashed: (file: LocalFile, sha256: string) => void): Promise<void> {
    const whole = uploads.filter((upload) => upload.kind !== 'parts');
    await forEachConcurrently(whole, CONCURRENT_FILES, async (upload) => {
      const { file } = upload;
      if (upload.kind === 'hashed while sent') return hashed(file, await this.sendWhileHashing(file, progress));
      await this.bytes.put(`${this.blobsPath()}/${upload.file.sha256}`, counted(createReadStream(file.source, { highWaterMark: SEND_CHUNK_BYTES }), progress), file.size);
    });
    for (const upload of uploads) if (upload.kind === 'parts') await this.uploadParts(upload, progress);
  }

  /**
   * Sends a file to the route that stores it under the digest the gateway computes, hashing each
   * chunk as it is read (the file is read once), and returns the digest once the gateway's agrees.
   */
  private async sendWhileHashing(file: LocalFile, progress: Progress): Promise<string> {
    const hash = createHash('sha256');
    let read = 0;
    const body: Readable = createReadStream(file.source, { highWaterMark: SEND_CHUNK_BYTES, ...(file.size > 0 ? { end: file.size - 1 } : {}) });
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      read += chunk.length;
      progress.add(chunk.length);
    });
    const stored = await this.bytes.put<{ sha256?: string }>(this.blobsPath(), body, file.size);
    if (read !== file.size) throw new CliError(`${excerpt(file.source)} changed while it was sent (${file.size} bytes listed, ${read} read): push again once it is written`, EXIT.failed);
    const sha256 = hash.digest('hex');
    if (stored.sha256 !== sha256) {
      const theirs = String(stored.sha256).slice(0, 12);
      throw new CliError(`${excerpt(file.source)}: the gateway stored the bytes sent as sha256 ${theirs}..., but they were read here as ${sha256.slice(0, 12)}...: they changed on the way. Nothing was committed; push again`, EXIT.failed);
    }
    return sha256;
  }

  private blobsPath(): string {
    return `/v1/data/projects/${encodeURIComponent(this.projectId)}/blobs`;
  }

  private async uploadParts(upload: Extract<BlobUpload, { kind: 'parts' }>, progress: Progress): Promise<void> {
    const { file, uploadId, partSize } = upload;
    for (let part = 1; part <= upload.parts; part += 1) {
      if (upload.stored.has(part)) continue;
      const start = (part - 1) * partSize;
      const end = Math.min(start + partSize, file.size);
      await this.bytes.put(`/v1/data/uploads/${encodeURIComponent(uploadId)}/parts/${part}`, counted(createReadStream(file.source, { start, end: end - 1 }), progress), end - start);
    }
    try {
      await this.client.call<CompleteBlobUploadResponseJson>('trellis.data.v1.BlobService/CompleteBlobUpload', { uploadId });
    } finally {
      // Completing ends the upload whatever its outcome (a changed file's digest fails it): a rerun starts another.
      this.state.setUpload(this.projectId, file.sha256, undefined);
    }
  }

  /** The parts (number and size) an upload left open holds, or undefined when it is gone (expired, completed). */
  private async storedParts(uploadId: string): Promise<Map<number, number> | undefined> {
    try {
      const { parts = [] } = await this.client.call<ListBlobUploadPartsResponseJson>('trellis.data.v1.BlobService/ListBlobUploadParts', { uploadId });
      return new Map(parts.map((part) => [part.partNumber ?? 0, Number(part.size ?? 0)]));
    } catch (error) {
      if (error instanceof GatewayRequestError && (error.status === 'NOT_FOUND' || error.status === 'FAILED_PRECONDITION')) return undefined;
      throw error;
    }
  }
}

/** The plan of an upload in parts: which parts are stored whole (a part of another size is sent again). */
function partsPlan(file: HashedFile, uploadId: string, partSize: number, received: ReadonlyMap<number, number>): BlobUpload {
  const parts = Math.max(1, Math.ceil(file.size / partSize));
  const stored = new Set<number>();
  let remaining = file.size;
  for (let part = 1; part <= parts; part += 1) {
    const size = Math.min(partSize, file.size - (part - 1) * partSize);
    if (received.get(part) === size) {
      stored.add(part);
      remaining -= size;
    }
  }
  return { file, kind: 'parts', uploadId, partSize, stored, parts, remaining };
}

/** `stream`, with each chunk counted into `progress` as it is read. */
function counted(stream: Readable, progress: Progress): Readable {
  stream.on('data', (chunk: Buffer) => progress.add(chunk.length));
  return stream;
}
