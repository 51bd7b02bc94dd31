import { create } from '@bufbuild/protobuf';
import { durationFromMs, durationMs, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import { GetEndpointStatsResponseSchema, type GetEndpointStatsRequest, type GetEndpointStatsResponse } from '@trellis/proto';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import { EndpointStatsService } from './endpoint-stats.service';
import type { BucketSummary } from './stats-span';

/** The handler of `EndpointService.GetEndpointStats`: proto to domain and back; a viewer may read. */
@Controller()
export class EndpointStatsGrpc {
  constructor(private readonly stats: EndpointStatsService) {}

  @GrpcMethod('EndpointService', 'GetEndpointStats')
  @Requires('read', ENDPOINT_KIND)
  async getEndpointStats(request: GetEndpointStatsRequest, metadata: Metadata): Promise<GetEndpointStatsResponse> {
    const stats = await this.stats.get(callerOf(metadata), request.endpointId, {
      startMs: request.startTime && timestampMs(request.startTime),
      endMs: request.endTime && timestampMs(request.endTime),
      widthMs: request.bucketWidth && durationMs(request.bucketWidth),
    });
    return create(GetEndpointStatsResponseSchema, {
      startTime: timestampFromMs(stats.span.fromMs),
      endTime: timestampFromMs(stats.span.toMs),
      bucketWidth: durationFromMs(stats.span.widthMs),
      total: stats.total.map(bucketToProto),
      revisions: stats.revisions.map((revision) => ({ revisionId: revision.revisionId, revisionNumber: revision.revisionNumber, buckets: revision.buckets.map(bucketToProto) })),
    });
  }
}

function bucketToProto(bucket: BucketSummary) {
  return { ...bucket, timestampMs: BigInt(bucket.timestampMs), requests: BigInt(bucket.requests), errors: BigInt(bucket.errors) };
}
