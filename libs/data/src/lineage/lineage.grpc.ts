import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  GetLineageResponseSchema,
  RecordLineageResponseSchema,
  type GetLineageRequest,
  type GetLineageResponse,
  type RecordLineageRequest,
  type RecordLineageResponse,
} from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import { LineageService } from './lineage.service';

/** Handlers of `trellis.data.v1.LineageService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class LineageGrpc {
  constructor(private readonly lineage: LineageService) {}

  @GrpcMethod('LineageService', 'GetLineage')
  @Requires('read', 'DatasetVersion')
  async getLineage(request: GetLineageRequest, metadata: Metadata): Promise<GetLineageResponse> {
    const graph = await this.lineage.get(callerOf(metadata), request.node, request.direction, request.depth);
    return create(GetLineageResponseSchema, {
      nodes: graph.nodes,
      edges: graph.edges.map((edge) => ({ source: edge.source, target: edge.target, origin: edge.origin, createTime: edge.createdAt ? timestampFromMs(edge.createdAt) : undefined })),
    });
  }

  @GrpcMethod('LineageService', 'RecordLineage')
  @Requires('update', 'DatasetVersion')
  async recordLineage(request: RecordLineageRequest, metadata: Metadata): Promise<RecordLineageResponse> {
    const recorded = await this.lineage.record(callerOf(metadata), request.projectId, request.edges);
    return create(RecordLineageResponseSchema, { recorded });
  }
}
