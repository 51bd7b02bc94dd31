import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  CreateModelResponseSchema,
  DeleteModelResponseSchema,
  DeleteModelTagResponseSchema,
  GetModelResponseSchema,
  RenameModelResponseSchema,
  SearchModelsResponseSchema,
  SetModelTagResponseSchema,
  UpdateModelResponseSchema,
  type CreateModelRequest,
  type CreateModelResponse,
  type DeleteModelRequest,
  type DeleteModelResponse,
  type DeleteModelTagRequest,
  type DeleteModelTagResponse,
  type GetModelRequest,
  type GetModelResponse,
  type RenameModelRequest,
  type RenameModelResponse,
  type SearchModelsRequest,
  type SearchModelsResponse,
  type SetModelTagRequest,
  type SetModelTagResponse,
  type UpdateModelRequest,
  type UpdateModelResponse,
} from '@trellis/proto';
import { tagOf } from '../common/tag.mapping';
import { modelToProto } from './model.mapping';
import { ModelService } from './model.service';

/** Handlers of the model methods of `trellis.registry.v1.RegistryService`. */
@Controller()
export class ModelGrpc {
  constructor(private readonly models: ModelService) {}

  @GrpcMethod('RegistryService', 'CreateModel')
  @Requires('create', 'Model')
  async createModel(request: CreateModelRequest, metadata: Metadata): Promise<CreateModelResponse> {
    const view = await this.models.create(callerOf(metadata), {
      projectId: request.projectId,
      name: request.name,
      description: request.description,
      tags: request.tags.map(tagOf),
      protectedAliases: request.protectedAliases,
    });
    return create(CreateModelResponseSchema, { model: modelToProto(view) });
  }

  @GrpcMethod('RegistryService', 'GetModel')
  @Requires('read', 'Model')
  async getModel(request: GetModelRequest, metadata: Metadata): Promise<GetModelResponse> {
    return create(GetModelResponseSchema, { model: modelToProto(await this.models.get(callerOf(metadata), request.projectId, request.modelName)) });
  }

  @GrpcMethod('RegistryService', 'UpdateModel')
  @Requires('update', 'Model')
  async updateModel(request: UpdateModelRequest, metadata: Metadata): Promise<UpdateModelResponse> {
    const view = await this.models.update(callerOf(metadata), {
      model: request.model && { projectId: request.model.projectId, name: request.model.name, description: request.model.description, protectedAliases: request.model.protectedAliases },
      updateMask: request.updateMask?.paths ?? [],
    });
    return create(UpdateModelResponseSchema, { model: modelToProto(view) });
  }

  @GrpcMethod('RegistryService', 'RenameModel')
  @Requires('update', 'Model')
  async renameModel(request: RenameModelRequest, metadata: Metadata): Promise<RenameModelResponse> {
    const view = await this.models.rename(callerOf(metadata), request.projectId, request.modelName, request.newName);
    return create(RenameModelResponseSchema, { model: modelToProto(view) });
  }

  @GrpcMethod('RegistryService', 'DeleteModel')
  @Requires('delete', 'Model')
  async deleteModel(request: DeleteModelRequest, metadata: Metadata): Promise<DeleteModelResponse> {
    await this.models.delete(callerOf(metadata), request.projectId, request.modelName);
    return create(DeleteModelResponseSchema);
  }

  @GrpcMethod('RegistryService', 'SearchModels')
  @Requires('read', 'Model')
  async searchModels(request: SearchModelsRequest, metadata: Metadata): Promise<SearchModelsResponse> {
    const page = await this.models.search(callerOf(metadata), {
      projectIds: request.projectIds,
      nameLike: request.nameLike,
      tags: request.tags.map(tagOf),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(SearchModelsResponseSchema, { models: page.models.map(modelToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('RegistryService', 'SetModelTag')
  @Requires('update', 'Model')
  async setModelTag(request: SetModelTagRequest, metadata: Metadata): Promise<SetModelTagResponse> {
    await this.models.setTag(callerOf(metadata), request.projectId, request.modelName, tagOf(request.tag));
    return create(SetModelTagResponseSchema);
  }

  @GrpcMethod('RegistryService', 'DeleteModelTag')
  @Requires('update', 'Model')
  async deleteModelTag(request: DeleteModelTagRequest, metadata: Metadata): Promise<DeleteModelTagResponse> {
    await this.models.deleteTag(callerOf(metadata), request.projectId, request.modelName, request.key);
    return create(DeleteModelTagResponseSchema);
  }
}
