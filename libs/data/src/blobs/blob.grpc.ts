import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, drainedStream, headerThenBody, Requires, type Caller, type DrainableCall, type PausableCall } from '@trellis/platform';
import {
  AbortBlobUploadResponseSchema,
  CompleteBlobUploadResponseSchema,
  DownloadBlobResponseSchema,
  FindMissingBlobsResponseSchema,
  ListBlobUploadPartsResponseSchema,
  StartBlobUploadResponseSchema,
  UploadBlobPartResponseSchema,
  UploadBlobResponseSchema,
  type AbortBlobUploadRequest,
  type AbortBlobUploadResponse,
  type CompleteBlobUploadRequest,
  type CompleteBlobUploadResponse,
  type DownloadBlobRequest,
  type DownloadBlobResponse,
  type FindMissingBlobsRequest,
  type FindMissingBlobsResponse,
  type ListBlobUploadPartsRequest,
  type ListBlobUploadPartsResponse,
  type StartBlobUploadRequest,
  type StartBlobUploadResponse,
  type UploadBlobPartRequest,
  type UploadBlobPartResponse,
  type UploadBlobRequest,
  type UploadBlobResponse,
} from '@trellis/proto/trellis/data/v1/blob_service_pb';
import type { Observable } from 'rxjs';
import { piecesOf } from './byte-pieces';
import { BLOB_KIND, BlobService, type StoredBlob } from './blob.service';

/** Most bytes per message of a download: large messages cost fewer per-message steps (encoding, framing, flow control) per byte. */
const CHUNK_BYTES = 1024 * 1024;

const blobInfo = (blob: StoredBlob) => ({ sha256: blob.sha256, size: BigInt(blob.size), storeName: blob.storeName });

/** Handlers of `trellis.data.v1.BlobService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class BlobGrpc {
  constructor(private readonly blobs: BlobService) {}

  @GrpcMethod('BlobService', 'FindMissingBlobs')
  @Requires('create', BLOB_KIND)
  async findMissingBlobs(request: FindMissingBlobsRequest, metadata: Metadata): Promise<FindMissingBlobsResponse> {
    const found = await this.blobs.findMissing(callerOf(metadata), request.projectId, request.sha256s);
    return create(FindMissingBlobsResponseSchema, found);
  }

  // Stream handlers return Observables: Nest feeds the request stream only after the handler returns.
  @GrpcStreamMethod('BlobService', 'UploadBlob')
  @Requires('create', BLOB_KIND)
  uploadBlob(requests: Observable<UploadBlobRequest>, metadata: Metadata, call?: PausableCall): Observable<UploadBlobResponse> {
    const caller = callerOf(metadata);
    return headerThenBody(requests, call, async (header, body) => {
      const stored = await this.blobs.upload(caller, { projectId: header.projectId, sha256: header.sha256, size: Number(header.size) }, body);
      return create(UploadBlobResponseSchema, { blob: blobInfo(stored.blob), alreadyStored: stored.alreadyStored });
    });
  }

  @GrpcMethod('BlobService', 'DownloadBlob')
  @Requires('read', BLOB_KIND)
  downloadBlob(request: DownloadBlobRequest, metadata: Metadata, call?: DrainableCall): Observable<DownloadBlobResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) => this.chunks(caller, request, signal));
  }

  @GrpcMethod('BlobService', 'StartBlobUpload')
  @Requires('create', BLOB_KIND)
  async startBlobUpload(request: StartBlobUploadRequest, metadata: Metadata): Promise<StartBlobUploadResponse> {
    const header = { projectId: request.projectId, sha256: request.sha256, size: Number(request.size) };
    const started = await this.blobs.start(callerOf(metadata), header, request.presign);
    return create(StartBlobUploadResponseSchema, {
      uploadId: started.uploadId,
      alreadyStored: started.alreadyStored,
      presignedUrl: started.presignedUrl,
      ...(started.expiresAt ? { expireTime: timestampFromMs(started.expiresAt) } : {}),
    });
  }

  @GrpcStreamMethod('BlobService', 'UploadBlobPart')
  @Requires('create', BLOB_KIND)
  uploadBlobPart(requests: Observable<UploadBlobPartRequest>, metadata: Metadata, call?: PausableCall): Observable<UploadBlobPartResponse> {
    const caller = callerOf(metadata);
    return headerThenBody(requests, call, async (header, body) => {
      const part = await this.blobs.uploadPart(caller, header.uploadId, header.partNumber, Number(header.size), body);
      return create(UploadBlobPartResponseSchema, { part: { partNumber: part.partNumber, size: BigInt(part.size) } });
    });
  }

  @GrpcMethod('BlobService', 'ListBlobUploadParts')
  @Requires('create', BLOB_KIND)
  async listBlobUploadParts(request: ListBlobUploadPartsRequest, metadata: Metadata): Promise<ListBlobUploadPartsResponse> {
    const listed = await this.blobs.listParts(callerOf(metadata), request.uploadId);
    return create(ListBlobUploadPartsResponseSchema, {
      parts: listed.parts.map((part) => ({ partNumber: part.partNumber, size: BigInt(part.size) })),
      expireTime: timestampFromMs(listed.expiresAt),
    });
  }

  @GrpcMethod('BlobService', 'CompleteBlobUpload')
  @Requires('create', BLOB_KIND)
  async completeBlobUpload(request: CompleteBlobUploadRequest, metadata: Metadata): Promise<CompleteBlobUploadResponse> {
    return create(CompleteBlobUploadResponseSchema, { blob: blobInfo(await this.blobs.complete(callerOf(metadata), request.uploadId)) });
  }

  @GrpcMethod('BlobService', 'AbortBlobUpload')
  @Requires('create', BLOB_KIND)
  async abortBlobUpload(request: AbortBlobUploadRequest, metadata: Metadata): Promise<AbortBlobUploadResponse> {
    await this.blobs.abort(callerOf(metadata), request.uploadId);
    return create(AbortBlobUploadResponseSchema);
  }

  private async *chunks(caller: Caller, request: DownloadBlobRequest, signal: AbortSignal): AsyncGenerator<DownloadBlobResponse> {
    const { body } = await this.blobs.download(caller, request.projectId, request.sha256, Number(request.offset), Number(request.length));
    signal.addEventListener('abort', () => body.destroy(), { once: true });
    try {
      for await (const chunk of piecesOf(body, CHUNK_BYTES)) yield create(DownloadBlobResponseSchema, { chunk });
    } finally {
      body.destroy();
    }
  }
}
