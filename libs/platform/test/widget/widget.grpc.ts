import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { defer, from, map, reduce, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import {
  AlreadyExistsError,
  Caller,
  callerOf,
  InvalidArgumentError,
  NotFoundError,
  Outbox,
  Requires,
  ResourceExhaustedError,
} from '../../src';
import {
  WidgetCreatedSchema,
  WidgetSchema,
  type CreateWidgetRequest,
  type CreateWidgetResponse,
  type DeleteWidgetRequest,
  type DeleteWidgetResponse,
  type GetWidgetRequest,
  type GetWidgetResponse,
  type UploadWidgetsRequest,
  type UploadWidgetsResponse,
  type WatchWidgetsRequest,
  type WatchWidgetsResponse,
  type Widget,
} from '../gen/trellis/kittest/v1/widget_service_pb';
import { WidgetEntity } from './widget.entity';

/** Emits `started` when a call named `slow` reaches its handler, which then waits for `release`, so a spec can act while it runs. */
export const slowCalls = new EventEmitter();

/** Handlers of the kit's test service: one of each RPC kind, persisted, with events and errors. */
@Controller()
export class WidgetGrpc {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @GrpcMethod('WidgetService', 'CreateWidget')
  @Requires('create', 'Widget')
  async createWidget(request: CreateWidgetRequest, metadata: Metadata): Promise<CreateWidgetResponse> {
    const caller = callerOf(metadata);
    caller.assert('create', 'Widget', { projectId: request.projectId });
    if (!/^[\w-]{1,64}$/.test(request.name)) {
      throw new InvalidArgumentError('must be 1 to 64 letters, digits, - or _', 'name');
    }
    if (request.name === 'explode') throw new Error('database password is hunter2');
    if (request.name === 'busy') throw new ResourceExhaustedError('too many widgets at once; retry in 3 seconds', 3, { reason: 'WIDGET_RATE_EXCEEDED' });
    if (request.name === 'slow') {
      const released = once(slowCalls, 'release');
      slowCalls.emit('started');
      await released;
    }
    const widget = create(WidgetSchema, { id: randomUUID(), projectId: request.projectId, name: request.name, size: request.size });
    await this.dataSource.transaction(async (manager) => {
      const taken = await manager.findOneBy(WidgetEntity, { projectId: widget.projectId, name: widget.name });
      if (taken) throw new AlreadyExistsError(`widget ${widget.name} already exists in project ${widget.projectId}`);
      await manager.insert(WidgetEntity, { ...widget, size: widget.size.toString() });
      await this.outbox.publish(manager, {
        subject: 'trellis.kittest.v1.widget.created',
        schema: WidgetCreatedSchema,
        message: create(WidgetCreatedSchema, { widget }),
        projectId: widget.projectId,
        actor: caller.principal?.id,
        requestId: caller.requestId,
      });
    });
    return { $typeName: 'trellis.kittest.v1.CreateWidgetResponse', widget };
  }

  @GrpcMethod('WidgetService', 'GetWidget')
  @Requires('read', 'Widget')
  async getWidget(request: GetWidgetRequest, metadata: Metadata): Promise<GetWidgetResponse> {
    const caller = callerOf(metadata);
    const widget = await this.find(request.id, caller, 'read');
    return { $typeName: 'trellis.kittest.v1.GetWidgetResponse', widget };
  }

  @GrpcMethod('WidgetService', 'WatchWidgets')
  @Requires('read', 'Widget')
  watchWidgets(request: WatchWidgetsRequest, metadata: Metadata): Observable<WatchWidgetsResponse> {
    const caller = callerOf(metadata);
    caller.assert('read', 'Widget', { projectId: request.projectId });
    return defer(() =>
      from(
        Array.from({ length: request.count }, (_, index) => ({
          $typeName: 'trellis.kittest.v1.WatchWidgetsResponse' as const,
          widget: create(WidgetSchema, { id: `w${index}`, projectId: request.projectId, name: `streamed-${index}`, size: BigInt(index) }),
        })),
      ),
    );
  }

  // A stream handler returns an Observable: NestJS feeds the request stream only once the
  // handler has returned, so awaiting the stream inside an async handler would never finish.
  @GrpcStreamMethod('WidgetService', 'UploadWidgets')
  @Requires('create', 'Widget')
  uploadWidgets(requests: Observable<UploadWidgetsRequest>): Observable<UploadWidgetsResponse> {
    return requests.pipe(
      reduce((sum, request) => ({ count: sum.count + 1, size: sum.size + (request.widget?.size ?? 0n) }), { count: 0, size: 0n }),
      map((total) => ({ $typeName: 'trellis.kittest.v1.UploadWidgetsResponse' as const, count: total.count, totalSize: total.size })),
    );
  }

  @GrpcMethod('WidgetService', 'DeleteWidget')
  @Requires('delete', 'Widget')
  async deleteWidget(request: DeleteWidgetRequest, metadata: Metadata): Promise<DeleteWidgetResponse> {
    const caller = callerOf(metadata);
    const widget = await this.find(request.id, caller, 'delete');
    await this.dataSource.getRepository(WidgetEntity).delete({ id: widget.id });
    return { $typeName: 'trellis.kittest.v1.DeleteWidgetResponse' };
  }

  private async find(id: string, caller: Caller, action: 'read' | 'delete'): Promise<Widget> {
    const row = await this.dataSource.getRepository(WidgetEntity).findOneBy({ id });
    // Not found and not allowed to read look the same, so ids of other projects do not leak.
    if (!row || !caller.can('read', 'Widget', { projectId: row.projectId })) throw new NotFoundError(`widget ${id} not found`, { reason: 'WIDGET_NOT_FOUND', resource: `widgets/${id}` });
    caller.assert(action, 'Widget', { projectId: row.projectId });
    return create(WidgetSchema, { ...row, size: BigInt(row.size) });
  }
}
