import { PassThrough } from 'node:stream';
import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, chunksOf, drainedStream, InvalidArgumentError, Requires, type Caller, type DrainableCall } from '@trellis/platform';
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

/** The part of a grpc-js client stream an upload pauses while the store is behind. */
interface PausableCall {
  pause(): void;
  resume(): void;
}

/** Handlers of `trellis.tracking.v1.ArtifactService`. */
@Controller()
export class ArtifactGrpc {
  constructor(private readonly artifacts: ArtifactService) {}

  // Stream handlers return Observables: Nest feeds the request stream only after the handler returns.
  @GrpcStreamMethod('ArtifactService', 'UploadArtifact')
  @Requires('update', 'Run')
  uploadArtifact(requests: Observable<UploadArtifactRequest>, metadata: Metadata, call?: PausableCall): Observable<UploadArtifactResponse> {
    const caller = callerOf(metadata);
    return new Observable<UploadArtifactResponse>((subscriber) => {
      const body = new PassThrough();
      let upload: Promise<void> | undefined;
      // The store sees the body end early and gives up; the caller gets this error.
      const fail = (error: unknown) => {
        body.destroy();
        subscriber.error(error);
      };
      const subscription = requests.subscribe({
        next: (request) => {
          if (!upload) {
            if (request.part.case !== 'header') return fail(new InvalidArgumentError('the first message must be the header naming run_id and path', 'header'));
            const { runId, path } = request.part.value;
            upload = this.artifacts.upload(caller, runId, path, body).then(
              (file) => {
                subscriber.next(create(UploadArtifactResponseSchema, { file: { path: file.path, isDir: false, sizeBytes: BigInt(file.size) } }));
                subscriber.complete();
              },
              fail,
            );
            return;
          }
          if (request.part.case !== 'chunk') return fail(new InvalidArgumentError('only the first message may be a header', 'header'));
          // Nest feeds the request stream without backpressure: pause the call itself until the store catches up.
          if (!body.write(request.part.value) && call) {
            call.pause();
            body.once('drain', () => call.resume());
          }
        },
        error: fail,
        complete: () => {
          if (!upload) return fail(new InvalidArgumentError('the upload sent no header', 'header'));
          body.end();
        },
      });
      return () => subscription.unsubscribe();
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
