import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated } from '@trellis/platform';
import {
  ClusterSchema,
  GetClusterResponseSchema,
  ListClustersResponseSchema,
  type Cluster,
  type GetClusterRequest,
  type GetClusterResponse,
  type ListClustersResponse,
} from '@trellis/proto';
import { amountsToProto } from '../resources';
import { ClusterService, type ClusterView } from './cluster.service';

/** Handlers of `trellis.compute.v1.ClusterService`: any authenticated caller may see the clusters. */
@Controller()
export class ClusterGrpc {
  constructor(private readonly clusters: ClusterService) {}

  @GrpcMethod('ClusterService', 'ListClusters')
  @Authenticated('read', 'Cluster')
  async listClusters(): Promise<ListClustersResponse> {
    const views = await Promise.all(this.clusters.names().map((name) => this.clusters.describe(name)));
    return create(ListClustersResponseSchema, { clusters: views.sort((a, b) => (a.name < b.name ? -1 : 1)).map(clusterToProto) });
  }

  @GrpcMethod('ClusterService', 'GetCluster')
  @Authenticated('read', 'Cluster')
  async getCluster(request: GetClusterRequest): Promise<GetClusterResponse> {
    return create(GetClusterResponseSchema, { cluster: clusterToProto(await this.clusters.describe(request.name, true)) });
  }
}

function clusterToProto(view: ClusterView): Cluster {
  return create(ClusterSchema, {
    name: view.name,
    plugin: view.plugin,
    capacity: amountsToProto(view.capacity),
    available: amountsToProto(view.available),
    gpuMemory: amountsToProto(Object.fromEntries(Object.entries(view.gpuMemoryBytes).map(([type, bytes]) => [`gpu/${type}`, bytes]))),
    healthy: view.healthy,
    healthMessage: view.healthMessage,
  });
}
