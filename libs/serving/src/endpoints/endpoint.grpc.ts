import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  CreateEndpointResponseSchema,
  DeleteEndpointResponseSchema,
  DeployRevisionResponseSchema,
  GetEndpointResponseSchema,
  ListEndpointsResponseSchema,
  RollbackEndpointResponseSchema,
  SetTrafficResponseSchema,
  type CreateEndpointRequest,
  type CreateEndpointResponse,
  type DeleteEndpointRequest,
  type DeleteEndpointResponse,
  type DeployRevisionRequest,
  type DeployRevisionResponse,
  type GetEndpointRequest,
  type GetEndpointResponse,
  type ListEndpointsRequest,
  type ListEndpointsResponse,
  type ResourceRequest,
  type RollbackEndpointRequest,
  type RollbackEndpointResponse,
  type SetTrafficRequest,
  type SetTrafficResponse,
} from '@trellis/proto';
import { policyFromProto } from '../rollouts/rollout.mapping';
import type { StoredResources } from './endpoint.entity';
import { endpointToProto, revisionToProto } from './endpoint.mapping';
import { splitFromProto } from './split.mapping';
import { EndpointService, ENDPOINT_KIND } from './endpoint.service';

/** Handlers of `trellis.serving.v1.EndpointService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class EndpointGrpc {
  constructor(private readonly endpoints: EndpointService) {}

  @GrpcMethod('EndpointService', 'CreateEndpoint')
  @Requires('create', ENDPOINT_KIND)
  async createEndpoint(request: CreateEndpointRequest, metadata: Metadata): Promise<CreateEndpointResponse> {
    const created = await this.endpoints.create(callerOf(metadata), {
      projectId: request.projectId,
      name: request.name,
      description: request.description,
      model: request.model,
      runtime: request.runtime,
      replicas: request.replicas,
      resources: resourcesOf(request.resources),
      batching: { maxBatchSize: request.batching?.maxBatchSize ?? 0, maxQueueDelayUs: Number(request.batching?.maxQueueDelayUs ?? 0n) },
      rolloutPolicy: request.rolloutPolicy && policyFromProto(request.rolloutPolicy),
      predictionLogShare: request.predictionLogShare,
    });
    return create(CreateEndpointResponseSchema, { endpoint: endpointToProto(created) });
  }

  @GrpcMethod('EndpointService', 'GetEndpoint')
  @Requires('read', ENDPOINT_KIND)
  async getEndpoint(request: GetEndpointRequest, metadata: Metadata): Promise<GetEndpointResponse> {
    return create(GetEndpointResponseSchema, { endpoint: endpointToProto(await this.endpoints.get(callerOf(metadata), request.endpointId)) });
  }

  @GrpcMethod('EndpointService', 'ListEndpoints')
  @Requires('read', ENDPOINT_KIND)
  async listEndpoints(request: ListEndpointsRequest, metadata: Metadata): Promise<ListEndpointsResponse> {
    const page = await this.endpoints.list(callerOf(metadata), { projectId: request.projectId, pageSize: request.pageSize, pageToken: request.pageToken });
    return create(ListEndpointsResponseSchema, { endpoints: page.endpoints.map(endpointToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('EndpointService', 'DeleteEndpoint')
  @Requires('delete', ENDPOINT_KIND)
  async deleteEndpoint(request: DeleteEndpointRequest, metadata: Metadata): Promise<DeleteEndpointResponse> {
    await this.endpoints.delete(callerOf(metadata), request.endpointId);
    return create(DeleteEndpointResponseSchema);
  }

  @GrpcMethod('EndpointService', 'DeployRevision')
  @Requires('update', ENDPOINT_KIND)
  async deployRevision(request: DeployRevisionRequest, metadata: Metadata): Promise<DeployRevisionResponse> {
    const { revision, view } = await this.endpoints.deploy(callerOf(metadata), request.endpointId, {
      model: request.model,
      runtime: request.runtime,
      replicas: request.replicas,
      resources: resourcesOf(request.resources),
      trafficPercent: request.trafficPercent,
      shadow: request.shadow,
    });
    return create(DeployRevisionResponseSchema, { revision: revisionToProto(revision), endpoint: endpointToProto(view) });
  }

  @GrpcMethod('EndpointService', 'SetTraffic')
  @Requires('update', ENDPOINT_KIND)
  async setTraffic(request: SetTrafficRequest, metadata: Metadata): Promise<SetTrafficResponse> {
    const view = await this.endpoints.setTraffic(callerOf(metadata), request.endpointId, splitFromProto(request.traffic));
    return create(SetTrafficResponseSchema, { endpoint: endpointToProto(view) });
  }

  @GrpcMethod('EndpointService', 'RollbackEndpoint')
  @Requires('update', ENDPOINT_KIND)
  async rollbackEndpoint(request: RollbackEndpointRequest, metadata: Metadata): Promise<RollbackEndpointResponse> {
    return create(RollbackEndpointResponseSchema, { endpoint: endpointToProto(await this.endpoints.rollback(callerOf(metadata), request.endpointId)) });
  }
}

/** Resources in numbers; int64s beyond 2^53 become unsafe integers, which the service refuses. */
function resourcesOf(resources: ResourceRequest | undefined): StoredResources {
  return {
    cpuMillicores: Number(resources?.cpuMillicores ?? 0n),
    memoryBytes: Number(resources?.memoryBytes ?? 0n),
    gpus: resources?.gpus ?? 0,
    gpuType: resources?.gpuType ?? '',
  };
}
