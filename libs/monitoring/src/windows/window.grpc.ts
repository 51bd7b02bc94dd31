import { create } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import { ListWindowResultsResponseSchema, type ListWindowResultsRequest, type ListWindowResultsResponse } from '@trellis/proto';
import { MONITOR_KIND } from '../monitors/monitor.service';
import { WindowResults } from './window-results.service';

/** The MonitoringService handler of window results. */
@Controller()
export class WindowGrpc {
  constructor(private readonly results: WindowResults) {}

  @GrpcMethod('MonitoringService', 'ListWindowResults')
  @Requires('read', MONITOR_KIND)
  async listWindowResults(request: ListWindowResultsRequest, metadata: Metadata): Promise<ListWindowResultsResponse> {
    const page = await this.results.list(callerOf(metadata), {
      monitorId: request.monitorId,
      fromMs: request.startTime && timestampMs(request.startTime),
      toMs: request.endTime && timestampMs(request.endTime),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(ListWindowResultsResponseSchema, page);
  }
}
