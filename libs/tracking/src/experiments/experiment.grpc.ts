import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, checkUpdateMask, Requires } from '@trellis/platform';
import {
  CreateExperimentResponseSchema,
  DeleteExperimentResponseSchema,
  DeleteExperimentTagResponseSchema,
  GetExperimentByNameResponseSchema,
  GetExperimentResponseSchema,
  RestoreExperimentResponseSchema,
  SearchExperimentsResponseSchema,
  SetExperimentTagResponseSchema,
  UpdateExperimentResponseSchema,
  type CreateExperimentRequest,
  type CreateExperimentResponse,
  type DeleteExperimentRequest,
  type DeleteExperimentResponse,
  type DeleteExperimentTagRequest,
  type DeleteExperimentTagResponse,
  type GetExperimentByNameRequest,
  type GetExperimentByNameResponse,
  type GetExperimentRequest,
  type GetExperimentResponse,
  type RestoreExperimentRequest,
  type RestoreExperimentResponse,
  type SearchExperimentsRequest,
  type SearchExperimentsResponse,
  type SetExperimentTagRequest,
  type SetExperimentTagResponse,
  type UpdateExperimentRequest,
  type UpdateExperimentResponse,
} from '@trellis/proto';
import { viewTypeFromProto } from '../common/lifecycle.mapping';
import { experimentToProto } from './experiment.mapping';
import { ExperimentService } from './experiment.service';

/** The fields of an experiment that UpdateExperiment's update_mask may name. */
const EXPERIMENT_UPDATABLE = ['name'] as const;

/** Handlers of `trellis.tracking.v1.ExperimentService`: map proto to domain and back. */
@Controller()
export class ExperimentGrpc {
  constructor(private readonly experiments: ExperimentService) {}

  @GrpcMethod('ExperimentService', 'CreateExperiment')
  @Requires('create', 'Experiment')
  async createExperiment(request: CreateExperimentRequest, metadata: Metadata): Promise<CreateExperimentResponse> {
    const experiment = await this.experiments.create(callerOf(metadata), {
      projectId: request.projectId,
      name: request.name,
      tags: request.tags.map(({ key, value }) => ({ key, value })),
    });
    return create(CreateExperimentResponseSchema, { experiment: experimentToProto(experiment) });
  }

  @GrpcMethod('ExperimentService', 'GetExperiment')
  @Requires('read', 'Experiment')
  async getExperiment(request: GetExperimentRequest, metadata: Metadata): Promise<GetExperimentResponse> {
    const experiment = await this.experiments.get(callerOf(metadata), request.experimentId);
    return create(GetExperimentResponseSchema, { experiment: experimentToProto(experiment) });
  }

  @GrpcMethod('ExperimentService', 'GetExperimentByName')
  @Requires('read', 'Experiment')
  async getExperimentByName(request: GetExperimentByNameRequest, metadata: Metadata): Promise<GetExperimentByNameResponse> {
    const experiment = await this.experiments.getByName(callerOf(metadata), request.projectId, request.name);
    return create(GetExperimentByNameResponseSchema, { experiment: experimentToProto(experiment) });
  }

  @GrpcMethod('ExperimentService', 'SearchExperiments')
  @Requires('read', 'Experiment')
  async searchExperiments(request: SearchExperimentsRequest, metadata: Metadata): Promise<SearchExperimentsResponse> {
    const page = await this.experiments.searchExperiments(callerOf(metadata), {
      projectIds: request.projectIds,
      filter: request.filter,
      orderBy: request.orderBy,
      viewType: viewTypeFromProto(request.viewType),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(SearchExperimentsResponseSchema, { experiments: page.experiments.map(experimentToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('ExperimentService', 'UpdateExperiment')
  @Requires('update', 'Experiment')
  async updateExperiment(request: UpdateExperimentRequest, metadata: Metadata): Promise<UpdateExperimentResponse> {
    checkUpdateMask(request.updateMask?.paths ?? [], EXPERIMENT_UPDATABLE);
    const experiment = await this.experiments.rename(callerOf(metadata), request.experimentId, request.name);
    return create(UpdateExperimentResponseSchema, { experiment: experimentToProto(experiment) });
  }

  @GrpcMethod('ExperimentService', 'DeleteExperiment')
  @Requires('update', 'Experiment')
  async deleteExperiment(request: DeleteExperimentRequest, metadata: Metadata): Promise<DeleteExperimentResponse> {
    await this.experiments.setDeleted(callerOf(metadata), request.experimentId, true);
    return create(DeleteExperimentResponseSchema);
  }

  @GrpcMethod('ExperimentService', 'RestoreExperiment')
  @Requires('update', 'Experiment')
  async restoreExperiment(request: RestoreExperimentRequest, metadata: Metadata): Promise<RestoreExperimentResponse> {
    await this.experiments.setDeleted(callerOf(metadata), request.experimentId, false);
    return create(RestoreExperimentResponseSchema);
  }

  @GrpcMethod('ExperimentService', 'SetExperimentTag')
  @Requires('update', 'Experiment')
  async setExperimentTag(request: SetExperimentTagRequest, metadata: Metadata): Promise<SetExperimentTagResponse> {
    await this.experiments.setTag(callerOf(metadata), request.experimentId, { key: request.tag?.key ?? '', value: request.tag?.value ?? '' });
    return create(SetExperimentTagResponseSchema);
  }

  @GrpcMethod('ExperimentService', 'DeleteExperimentTag')
  @Requires('update', 'Experiment')
  async deleteExperimentTag(request: DeleteExperimentTagRequest, metadata: Metadata): Promise<DeleteExperimentTagResponse> {
    await this.experiments.deleteTag(callerOf(metadata), request.experimentId, request.key);
    return create(DeleteExperimentTagResponseSchema);
  }
}
