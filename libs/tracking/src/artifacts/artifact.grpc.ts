import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, chunksOf, drainedStream, headerThenBody, Requires, type Caller, type DrainableCall, type PausableCall } from '@trellis/platform';
import {
  DeleteArtifactResponseSchema,
  DownloadArtifactResponseSchema,
  GetArtifactStoreResponseSchema,
  ListArtifactsResponseSchema,
  SetArtifactStoreResponseSchema,
  UploadArtifactResponseSchema,
  type DeleteArtifactRequest,
  type DeleteArtifactResponse,
  type DownloadArtifactRequest,
  type DownloadArtifactResponse,
  type GetArtifactStoreRequest,
  type GetArtifactStoreResponse,
  type ListArtifactsRequest,
  type ListArtifactsResponse,
  type SetArtifactStoreRequest,
  type SetArtifactStoreResponse,
  type UploadArtifactRequest,
  type UploadArtifactResponse,
} from '@trellis/proto';
import { Observable } from 'rxjs';
import { ArtifactService } from './artifact.service';

const CHUNK_BYTES = 64 * 1024;

/** Handlers of `trellis.tracking.v1.ArtifactService`. */
@Controller()
export class ArtifactGrpc {
  constructor(private readonly artifacts: ArtifactService) {}

  // Stream handlers return Observables: Nest feeds the request stream only after the handler returns.
  @GrpcStreamMethod('ArtifactService', 'UploadArtifact')
  @Requires('update', 'Run')
  uploadArtifact(requests: Observable<UploadArtifactRequest>, metadata: Metadata, call?: PausableCall): Observable<UploadArtifactResponse> {
    const caller = callerOf(metadata);
    return headerThenBody(requests, call, async ({ runId, path }, body) => {
      const file = await this.artifacts.upload(caller, runId, path, body);
      return create(UploadArtifactResponseSchema, { file: { path: file.path, isDir: false, sizeBytes: BigInt(file.size) } });
    });
  }

  @GrpcMethod('ArtifactService', 'DownloadArtifact')
  @Requires('read', 'Run')
  downloadArtifact(request: DownloadArtifactRequest, metadata: Metadata, call?: DrainableCall): Observable<DownloadArtifactResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) => this.chunks(caller, request, signal));
  }

  private async *chunks(caller: Caller, request: DownloadArtifactRequest, signal: AbortSignal): AsyncGenerator<DownloadArtifactResponse> {
    const file = await this.artifacts.download(caller, request.runId, request.path);
    signal.addEventListener('abort', () => file.body.destroy(), { once: true });
    try {
      for await (const chunk of chunksOf(file.body, CHUNK_BYTES)) yield create(DownloadArtifactResponseSchema, { chunk });
    } finally {
      file.body.destroy();
    }
  }

  @GrpcMethod('ArtifactService', 'ListArtifacts')
  @Requires('read', 'Run')
  async listArtifacts(request: ListArtifactsRequest, metadata: Metadata): Promise<ListArtifactsResponse> {
    const page = await this.artifacts.list(callerOf(metadata), request.runId, request.path, request.pageSize, request.pageToken);
    return create(ListArtifactsResponseSchema, {
      rootUri: page.rootUri,
      files: page.entries.map((entry) => ({ path: entry.path, isDir: entry.isDir, sizeBytes: BigInt(entry.size) })),
      nextPageToken: page.nextPageToken,
      storage: page.storage,
    });
  }

  @GrpcMethod('ArtifactService', 'DeleteArtifact')
  @Requires('update', 'Run')
  async deleteArtifact(request: DeleteArtifactRequest, metadata: Metadata): Promise<DeleteArtifactResponse> {
    await this.artifacts.delete(callerOf(metadata), request.runId, request.path);
    return create(DeleteArtifactResponseSchema);
  }

  @GrpcMethod('ArtifactService', 'GetArtifactStore')
  @Requires('read', 'Experiment')
  async getArtifactStore(request: GetArtifactStoreRequest, metadata: Metadata): Promise<GetArtifactStoreResponse> {
    return create(GetArtifactStoreResponseSchema, { store: await this.artifacts.storeOf(callerOf(metadata), request.projectId) });
  }

  @GrpcMethod('ArtifactService', 'SetArtifactStore')
  @Requires('update', 'Project')
  async setArtifactStore(request: SetArtifactStoreRequest, metadata: Metadata): Promise<SetArtifactStoreResponse> {
    await this.artifacts.setStore(callerOf(metadata), request.projectId, request.store);
    return create(SetArtifactStoreResponseSchema, { store: request.store });
  }
}
