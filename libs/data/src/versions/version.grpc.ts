import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, InvalidArgumentError, Requires, ResourceExhaustedError } from '@trellis/platform';
import {
  CommitDatasetVersionResponseSchema,
  DeleteDatasetVersionResponseSchema,
  DeleteDatasetVersionTagResponseSchema,
  DiffDatasetVersionsResponseSchema,
  GetDatasetVersionResponseSchema,
  ListDatasetVersionFilesResponseSchema,
  ListDatasetVersionsResponseSchema,
  ResolveDatasetReferenceResponseSchema,
  SetDatasetVersionTagResponseSchema,
  type CommitDatasetVersionHeader,
  type CommitDatasetVersionRequest,
  type CommitDatasetVersionResponse,
  type DeleteDatasetVersionRequest,
  type DeleteDatasetVersionResponse,
  type DeleteDatasetVersionTagRequest,
  type DeleteDatasetVersionTagResponse,
  type DiffDatasetVersionsRequest,
  type DiffDatasetVersionsResponse,
  type GetDatasetVersionRequest,
  type GetDatasetVersionResponse,
  type ListDatasetVersionFilesRequest,
  type ListDatasetVersionFilesResponse,
  type ListDatasetVersionsRequest,
  type ListDatasetVersionsResponse,
  type ResolveDatasetReferenceRequest,
  type ResolveDatasetReferenceResponse,
  type SetDatasetVersionTagRequest,
  type SetDatasetVersionTagResponse,
} from '@trellis/proto/trellis/data/v1/data_service_pb';
import { Observable } from 'rxjs';
import { changeToProto, commitHeaderOf, fileToProto, versionToProto } from './version.mapping';
import { MAX_FILES_PER_VERSION, type ManifestFile } from './version-rules';
import { VERSION_KIND, VersionService } from './version.service';

/** A version number of a request: bigints beyond 2^53 are refused by the service's range check. */
const numberOf = (value: bigint): number => Number(value);

/** Handlers of the version methods of `trellis.data.v1.DataService`. */
@Controller()
export class VersionGrpc {
  constructor(private readonly versions: VersionService) {}

  // Stream handlers return Observables: Nest feeds the request stream only after the handler returns.
  @GrpcStreamMethod('DataService', 'CommitDatasetVersion')
  @Requires('create', VERSION_KIND)
  commitDatasetVersion(requests: Observable<CommitDatasetVersionRequest>, metadata: Metadata): Observable<CommitDatasetVersionResponse> {
    const caller = callerOf(metadata);
    return new Observable<CommitDatasetVersionResponse>((subscriber) => {
      let header: CommitDatasetVersionHeader | undefined;
      let failed = false;
      const put: ManifestFile[] = [];
      const removedPaths: string[] = [];
      const fail = (error: unknown) => {
        failed = true;
        subscriber.error(error);
      };
      const subscription = requests.subscribe({
        next: (request) => {
          if (failed) return;
          if (!header) {
            if (request.part.case !== 'header') return fail(new InvalidArgumentError('the first message must be the header naming dataset_id', 'header'));
            header = request.part.value;
            return;
          }
          if (request.part.case !== 'changes') return fail(new InvalidArgumentError('only the first message may be a header; the next ones carry changes', 'header'));
          const changes = request.part.value;
          // Bounded as it arrives: a stream cannot make the service hold more than one version's worth.
          if (put.length + removedPaths.length + changes.put.length + changes.removedPaths.length > MAX_FILES_PER_VERSION) {
            return fail(new ResourceExhaustedError(`a commit carries at most ${MAX_FILES_PER_VERSION} files and removed paths`));
          }
          for (const file of changes.put) put.push({ path: file.path, size: Number(file.sizeBytes), sha256: file.sha256, mediaType: file.mediaType });
          removedPaths.push(...changes.removedPaths);
        },
        error: fail,
        complete: () => {
          if (failed) return;
          if (!header) return fail(new InvalidArgumentError('the commit sent no header', 'header'));
          this.versions.commit(caller, { ...commitHeaderOf(header), put, removedPaths }).then((view) => {
            subscriber.next(create(CommitDatasetVersionResponseSchema, { version: versionToProto(view) }));
            subscriber.complete();
          }, fail);
        },
      });
      return () => subscription.unsubscribe();
    });
  }

  @GrpcMethod('DataService', 'GetDatasetVersion')
  @Requires('read', VERSION_KIND)
  async getDatasetVersion(request: GetDatasetVersionRequest, metadata: Metadata): Promise<GetDatasetVersionResponse> {
    const view = await this.versions.get(callerOf(metadata), request.datasetId, numberOf(request.version));
    return create(GetDatasetVersionResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('DataService', 'ResolveDatasetReference')
  @Requires('read', VERSION_KIND)
  async resolveDatasetReference(request: ResolveDatasetReferenceRequest, metadata: Metadata): Promise<ResolveDatasetReferenceResponse> {
    const view = await this.versions.resolve(callerOf(metadata), request.projectId, request.reference);
    return create(ResolveDatasetReferenceResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('DataService', 'ListDatasetVersions')
  @Requires('read', VERSION_KIND)
  async listDatasetVersions(request: ListDatasetVersionsRequest, metadata: Metadata): Promise<ListDatasetVersionsResponse> {
    const page = await this.versions.list(callerOf(metadata), request.datasetId, request);
    return create(ListDatasetVersionsResponseSchema, { versions: page.items.map(versionToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('DataService', 'ListDatasetVersionFiles')
  @Requires('read', VERSION_KIND)
  async listDatasetVersionFiles(request: ListDatasetVersionFilesRequest, metadata: Metadata): Promise<ListDatasetVersionFilesResponse> {
    const page = await this.versions.files(callerOf(metadata), request.datasetId, numberOf(request.version), request.pathPrefix, request);
    return create(ListDatasetVersionFilesResponseSchema, { files: page.items.map(fileToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('DataService', 'DiffDatasetVersions')
  @Requires('read', VERSION_KIND)
  async diffDatasetVersions(request: DiffDatasetVersionsRequest, metadata: Metadata): Promise<DiffDatasetVersionsResponse> {
    const page = await this.versions.diff(callerOf(metadata), request.datasetId, numberOf(request.fromVersion), numberOf(request.toVersion), request);
    return create(DiffDatasetVersionsResponseSchema, { changes: page.items.map(changeToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('DataService', 'SetDatasetVersionTag')
  @Requires('update', VERSION_KIND)
  async setDatasetVersionTag(request: SetDatasetVersionTagRequest, metadata: Metadata): Promise<SetDatasetVersionTagResponse> {
    const view = await this.versions.setTag(callerOf(metadata), request.datasetId, numberOf(request.version), request.tag, request.move);
    return create(SetDatasetVersionTagResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('DataService', 'DeleteDatasetVersionTag')
  @Requires('update', VERSION_KIND)
  async deleteDatasetVersionTag(request: DeleteDatasetVersionTagRequest, metadata: Metadata): Promise<DeleteDatasetVersionTagResponse> {
    await this.versions.deleteTag(callerOf(metadata), request.datasetId, request.tag);
    return create(DeleteDatasetVersionTagResponseSchema);
  }

  @GrpcMethod('DataService', 'DeleteDatasetVersion')
  @Requires('delete', VERSION_KIND)
  async deleteDatasetVersion(request: DeleteDatasetVersionRequest, metadata: Metadata): Promise<DeleteDatasetVersionResponse> {
    await this.versions.delete(callerOf(metadata), request.datasetId, numberOf(request.version));
    return create(DeleteDatasetVersionResponseSchema);
  }
}
