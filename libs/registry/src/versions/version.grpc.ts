import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, chunksOf, drainedStream, Requires, type Caller, type DrainableCall } from '@trellis/platform';
import {
  CreateVersionResponseSchema,
  DeleteVersionResponseSchema,
  DeleteVersionTagResponseSchema,
  DownloadVersionFileResponseSchema,
  GetVersionLineageResponseSchema,
  GetVersionResponseSchema,
  LineageSchema,
  ListVersionFilesResponseSchema,
  SearchVersionsResponseSchema,
  SetVersionTagResponseSchema,
  UpdateVersionResponseSchema,
  WaitVersionResponseSchema,
  type CreateVersionRequest,
  type CreateVersionResponse,
  type DeleteVersionRequest,
  type DeleteVersionResponse,
  type DeleteVersionTagRequest,
  type DeleteVersionTagResponse,
  type DownloadVersionFileRequest,
  type DownloadVersionFileResponse,
  type GetVersionLineageRequest,
  type GetVersionLineageResponse,
  type GetVersionRequest,
  type GetVersionResponse,
  type ListVersionFilesRequest,
  type ListVersionFilesResponse,
  type SearchVersionsRequest,
  type SearchVersionsResponse,
  type SetVersionTagRequest,
  type SetVersionTagResponse,
  type UpdateVersionRequest,
  type UpdateVersionResponse,
  type WaitVersionRequest,
  type WaitVersionResponse,
} from '@trellis/proto';
import { Observable } from 'rxjs';
import { tagOf } from '../common/tag.mapping';
import { signatureOf, versionToProto } from './version.mapping';
import type { WaitEnd } from './version-waiters';
import { VersionService } from './version.service';

const CHUNK_BYTES = 64 * 1024;

/** What a unary handler gets as its third argument: the grpc-js call, with its deadline and cancellation. */
interface WaitingCall extends NodeJS.EventEmitter {
  getDeadline(): Date | number;
}

/** When a wait ends without an answer: at the call's deadline (ms since the epoch, Infinity for none) or when the client cancels. */
function callEnd(call: WaitingCall | undefined): WaitEnd {
  const cancelled = new AbortController();
  call?.once('cancelled', () => cancelled.abort());
  const deadline = call?.getDeadline() ?? Infinity;
  return { deadlineMs: deadline instanceof Date ? deadline.getTime() : deadline, cancelled: cancelled.signal };
}

/** Handlers of the version methods of `trellis.registry.v1.RegistryService`. */
@Controller()
export class VersionGrpc {
  constructor(private readonly versions: VersionService) {}

  @GrpcMethod('RegistryService', 'CreateVersion')
  @Requires('create', 'ModelVersion')
  async createVersion(request: CreateVersionRequest, metadata: Metadata): Promise<CreateVersionResponse> {
    const view = await this.versions.create(callerOf(metadata), {
      projectId: request.projectId,
      name: request.modelName,
      source: request.source,
      runId: request.runId,
      format: request.format,
      signature: signatureOf(request.signature),
      description: request.description,
      tags: request.tags.map(tagOf),
      runLink: request.runLink,
    });
    return create(CreateVersionResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'GetVersion')
  @Requires('read', 'ModelVersion')
  async getVersion(request: GetVersionRequest, metadata: Metadata): Promise<GetVersionResponse> {
    const view = await this.versions.get(callerOf(metadata), request.projectId, request.modelName, request.version);
    return create(GetVersionResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'UpdateVersion')
  @Requires('update', 'ModelVersion')
  async updateVersion(request: UpdateVersionRequest, metadata: Metadata): Promise<UpdateVersionResponse> {
    const version = request.version;
    const view = await this.versions.update(callerOf(metadata), {
      version: version && { projectId: version.projectId, name: version.modelName, version: version.version, description: version.description },
      updateMask: request.updateMask?.paths ?? [],
    });
    return create(UpdateVersionResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'WaitVersion')
  @Requires('read', 'ModelVersion')
  async waitVersion(request: WaitVersionRequest, metadata: Metadata, call?: WaitingCall): Promise<WaitVersionResponse> {
    const view = await this.versions.wait(callerOf(metadata), request.projectId, request.modelName, request.version, callEnd(call));
    return create(WaitVersionResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'DeleteVersion')
  @Requires('delete', 'ModelVersion')
  async deleteVersion(request: DeleteVersionRequest, metadata: Metadata): Promise<DeleteVersionResponse> {
    await this.versions.delete(callerOf(metadata), request.projectId, request.modelName, request.version);
    return create(DeleteVersionResponseSchema);
  }

  @GrpcMethod('RegistryService', 'SearchVersions')
  @Requires('read', 'ModelVersion')
  async searchVersions(request: SearchVersionsRequest, metadata: Metadata): Promise<SearchVersionsResponse> {
    const page = await this.versions.search(callerOf(metadata), {
      projectIds: request.projectIds,
      nameLike: request.nameLike,
      runIds: request.runIds,
      tags: request.tags.map(tagOf),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(SearchVersionsResponseSchema, { versions: page.versions.map(versionToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('RegistryService', 'SetVersionTag')
  @Requires('update', 'ModelVersion')
  async setVersionTag(request: SetVersionTagRequest, metadata: Metadata): Promise<SetVersionTagResponse> {
    await this.versions.setTag(callerOf(metadata), request.projectId, request.modelName, request.version, tagOf(request.tag));
    return create(SetVersionTagResponseSchema);
  }

  @GrpcMethod('RegistryService', 'DeleteVersionTag')
  @Requires('update', 'ModelVersion')
  async deleteVersionTag(request: DeleteVersionTagRequest, metadata: Metadata): Promise<DeleteVersionTagResponse> {
    await this.versions.deleteTag(callerOf(metadata), request.projectId, request.modelName, request.version, request.key);
    return create(DeleteVersionTagResponseSchema);
  }

  @GrpcMethod('RegistryService', 'GetVersionLineage')
  @Requires('read', 'ModelVersion')
  async getVersionLineage(request: GetVersionLineageRequest, metadata: Metadata): Promise<GetVersionLineageResponse> {
    const { view, lineage } = await this.versions.lineage(callerOf(metadata), request.projectId, request.modelName, request.version);
    return create(GetVersionLineageResponseSchema, {
      lineage: create(LineageSchema, {
        version: versionToProto(view),
        runId: lineage?.runId ?? '',
        experimentId: lineage?.experimentId ?? '',
        runName: lineage?.runName ?? '',
        datasets: lineage?.datasets ?? [],
      }),
    });
  }

  @GrpcMethod('RegistryService', 'ListVersionFiles')
  @Requires('read', 'ModelVersion')
  async listVersionFiles(request: ListVersionFilesRequest, metadata: Metadata): Promise<ListVersionFilesResponse> {
    const page = await this.versions.listFiles(callerOf(metadata), {
      projectId: request.projectId,
      name: request.modelName,
      version: request.version,
      path: request.path,
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    const files = page.files.map((entry) => ({ path: entry.path, isDir: entry.isDir, sizeBytes: BigInt(entry.size) }));
    return create(ListVersionFilesResponseSchema, { files, nextPageToken: page.nextPageToken });
  }

  // Stream handlers return Observables, as the kit requires (see tracking's artifact handlers).
  @GrpcMethod('RegistryService', 'DownloadVersionFile')
  @Requires('read', 'ModelVersion')
  downloadVersionFile(request: DownloadVersionFileRequest, metadata: Metadata, call?: DrainableCall): Observable<DownloadVersionFileResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) => this.fileChunks(caller, request, signal));
  }

  private async *fileChunks(caller: Caller, request: DownloadVersionFileRequest, signal: AbortSignal): AsyncGenerator<DownloadVersionFileResponse> {
    const file = await this.versions.openFile(caller, request.projectId, request.modelName, request.version, request.path);
    signal.addEventListener('abort', () => file.body.destroy(), { once: true });
    try {
      for await (const chunk of chunksOf(file.body, CHUNK_BYTES)) yield create(DownloadVersionFileResponseSchema, { chunk });
    } finally {
      file.body.destroy();
    }
  }
}
