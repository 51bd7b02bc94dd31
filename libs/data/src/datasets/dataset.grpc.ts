import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  CreateDatasetResponseSchema,
  DeleteDatasetResponseSchema,
  GetDatasetResponseSchema,
  ListDatasetsResponseSchema,
  UpdateDatasetResponseSchema,
  type CreateDatasetRequest,
  type CreateDatasetResponse,
  type DeleteDatasetRequest,
  type DeleteDatasetResponse,
  type GetDatasetRequest,
  type GetDatasetResponse,
  type ListDatasetsRequest,
  type ListDatasetsResponse,
  type UpdateDatasetRequest,
  type UpdateDatasetResponse,
} from '@trellis/proto';
import { datasetToProto, tagOf } from './dataset.mapping';
import { DatasetService, DATASET_KIND } from './dataset.service';

/** Handlers of `trellis.data.v1.DataService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class DatasetGrpc {
  constructor(private readonly datasets: DatasetService) {}

  @GrpcMethod('DataService', 'CreateDataset')
  @Requires('create', DATASET_KIND)
  async createDataset(request: CreateDatasetRequest, metadata: Metadata): Promise<CreateDatasetResponse> {
    const created = await this.datasets.create(callerOf(metadata), { projectId: request.projectId, name: request.name, description: request.description, tags: request.tags.map(tagOf) });
    return create(CreateDatasetResponseSchema, { dataset: datasetToProto(created) });
  }

  @GrpcMethod('DataService', 'GetDataset')
  @Requires('read', DATASET_KIND)
  async getDataset(request: GetDatasetRequest, metadata: Metadata): Promise<GetDatasetResponse> {
    const { dataset, latestVersion } = await this.datasets.get(callerOf(metadata), request.datasetId);
    return create(GetDatasetResponseSchema, { dataset: datasetToProto(dataset, latestVersion) });
  }

  @GrpcMethod('DataService', 'ListDatasets')
  @Requires('read', DATASET_KIND)
  async listDatasets(request: ListDatasetsRequest, metadata: Metadata): Promise<ListDatasetsResponse> {
    const page = await this.datasets.list(callerOf(metadata), { projectId: request.projectId, pageSize: request.pageSize, pageToken: request.pageToken });
    return create(ListDatasetsResponseSchema, { datasets: page.datasets.map(({ dataset, latestVersion }) => datasetToProto(dataset, latestVersion)), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('DataService', 'UpdateDataset')
  @Requires('update', DATASET_KIND)
  async updateDataset(request: UpdateDatasetRequest, metadata: Metadata): Promise<UpdateDatasetResponse> {
    const { dataset, latestVersion } = await this.datasets.update(callerOf(metadata), request.dataset?.id ?? '', {
      description: request.dataset?.description ?? '',
      tags: request.dataset?.tags.map(tagOf) ?? [],
      updateMask: request.updateMask?.paths ?? [],
    });
    return create(UpdateDatasetResponseSchema, { dataset: datasetToProto(dataset, latestVersion) });
  }

  @GrpcMethod('DataService', 'DeleteDataset')
  @Requires('delete', DATASET_KIND)
  async deleteDataset(request: DeleteDatasetRequest, metadata: Metadata): Promise<DeleteDatasetResponse> {
    await this.datasets.delete(callerOf(metadata), request.datasetId);
    return create(DeleteDatasetResponseSchema);
  }
}
