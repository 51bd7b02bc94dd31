import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  CreateMonitorResponseSchema,
  DeleteMonitorResponseSchema,
  GetMonitorResponseSchema,
  ListMonitorsResponseSchema,
  UpdateMonitorResponseSchema,
  type CreateMonitorRequest,
  type CreateMonitorResponse,
  type DeleteMonitorRequest,
  type DeleteMonitorResponse,
  type GetMonitorRequest,
  type GetMonitorResponse,
  type ListMonitorsRequest,
  type ListMonitorsResponse,
  type UpdateMonitorRequest,
  type UpdateMonitorResponse,
} from '@trellis/proto';
import { monitorToProto, newMonitorOf } from './monitor.mapping';
import { MonitorService, MONITOR_KIND } from './monitor.service';

/** Handlers of `trellis.monitoring.v1.MonitoringService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class MonitorGrpc {
  constructor(private readonly monitors: MonitorService) {}

  @GrpcMethod('MonitoringService', 'CreateMonitor')
  @Requires('create', MONITOR_KIND)
  async createMonitor(request: CreateMonitorRequest, metadata: Metadata): Promise<CreateMonitorResponse> {
    const created = await this.monitors.create(callerOf(metadata), newMonitorOf(request));
    return create(CreateMonitorResponseSchema, { monitor: monitorToProto(created) });
  }

  @GrpcMethod('MonitoringService', 'GetMonitor')
  @Requires('read', MONITOR_KIND)
  async getMonitor(request: GetMonitorRequest, metadata: Metadata): Promise<GetMonitorResponse> {
    return create(GetMonitorResponseSchema, { monitor: monitorToProto(await this.monitors.get(callerOf(metadata), request.monitorId)) });
  }

  @GrpcMethod('MonitoringService', 'ListMonitors')
  @Requires('read', MONITOR_KIND)
  async listMonitors(request: ListMonitorsRequest, metadata: Metadata): Promise<ListMonitorsResponse> {
    const page = await this.monitors.list(callerOf(metadata), { projectId: request.projectId, pageSize: request.pageSize, pageToken: request.pageToken });
    return create(ListMonitorsResponseSchema, { monitors: page.monitors.map(monitorToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('MonitoringService', 'UpdateMonitor')
  @Requires('update', MONITOR_KIND)
  async updateMonitor(request: UpdateMonitorRequest, metadata: Metadata): Promise<UpdateMonitorResponse> {
    const updated = await this.monitors.update(callerOf(metadata), request.monitor?.id ?? '', {
      description: request.monitor?.description ?? '',
      updateMask: request.updateMask?.paths ?? [],
    });
    return create(UpdateMonitorResponseSchema, { monitor: monitorToProto(updated) });
  }

  @GrpcMethod('MonitoringService', 'DeleteMonitor')
  @Requires('delete', MONITOR_KIND)
  async deleteMonitor(request: DeleteMonitorRequest, metadata: Metadata): Promise<DeleteMonitorResponse> {
    await this.monitors.delete(callerOf(metadata), request.monitorId);
    return create(DeleteMonitorResponseSchema);
  }
}
