import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, drainedStream, Requires, type DrainableCall } from '@trellis/platform';
import {
  DownloadDatasetFileResponseSchema,
  DownloadDatasetVersionTarResponseSchema,
  type DownloadDatasetFileRequest,
  type DownloadDatasetFileResponse,
  type DownloadDatasetVersionTarRequest,
  type DownloadDatasetVersionTarResponse,
} from '@trellis/proto/trellis/data/v1/blob_service_pb';
import { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { piecesOf } from './byte-pieces';
import { BLOB_KIND } from './blob.service';
import { VersionDownloadService } from './version-download.service';

/** Most bytes per message of a download. */
const CHUNK_BYTES = 256 * 1024;

/** Handlers of BlobService's downloads of dataset versions' files, one file or a tar stream. */
@Controller()
export class VersionDownloadGrpc {
  constructor(private readonly downloads: VersionDownloadService) {}

  @GrpcMethod('BlobService', 'DownloadDatasetFile')
  @Requires('read', BLOB_KIND)
  downloadDatasetFile(request: DownloadDatasetFileRequest, metadata: Metadata, call?: DrainableCall): Observable<DownloadDatasetFileResponse> {
    const caller = callerOf(metadata);
    const downloads = this.downloads;
    return drainedStream(call, async function* (signal) {
      const body = await downloads.file(caller, request.datasetId, Number(request.version), request.path, Number(request.offset), Number(request.length));
      signal.addEventListener('abort', () => body.destroy(), { once: true });
      try {
        for await (const chunk of piecesOf(body, CHUNK_BYTES)) yield create(DownloadDatasetFileResponseSchema, { chunk });
      } finally {
        body.destroy();
      }
    });
  }

  @GrpcMethod('BlobService', 'DownloadDatasetVersionTar')
  @Requires('read', BLOB_KIND)
  downloadDatasetVersionTar(request: DownloadDatasetVersionTarRequest, metadata: Metadata, call?: DrainableCall): Observable<DownloadDatasetVersionTarResponse> {
    const caller = callerOf(metadata);
    const downloads = this.downloads;
    return drainedStream(call, async function* (signal) {
      const archive = Readable.from(await downloads.tar(caller, request.datasetId, Number(request.version), request.pathPrefix));
      signal.addEventListener('abort', () => archive.destroy(), { once: true });
      try {
        for await (const chunk of piecesOf(archive, CHUNK_BYTES)) yield create(DownloadDatasetVersionTarResponseSchema, { chunk });
      } finally {
        archive.destroy();
      }
    });
  }
}
