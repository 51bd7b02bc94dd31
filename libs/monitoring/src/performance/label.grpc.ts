import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import { PostLabelsResponseSchema, type PostLabelsRequest, type PostLabelsResponse } from '@trellis/proto';
import { MONITOR_KIND } from '../monitors/monitor.service';
import { LabelService } from './label.service';

/** The MonitoringService's PostLabels handler: labels of an endpoint's logged predictions. */
@Controller()
export class LabelGrpc {
  constructor(private readonly labels: LabelService) {}

  @GrpcMethod('MonitoringService', 'PostLabels')
  @Requires('update', MONITOR_KIND)
  async postLabels(request: PostLabelsRequest, metadata: Metadata): Promise<PostLabelsResponse> {
    const labels = request.labels.map((label) => ({
      requestId: label.requestId,
      row: label.row,
      number: label.value.case === 'number' ? label.value.value : undefined,
      category: label.value.case === 'category' ? label.value.value : undefined,
    }));
    const posted = await this.labels.post(callerOf(metadata), request.projectId, request.endpointName, labels);
    return create(PostLabelsResponseSchema, posted);
  }
}
