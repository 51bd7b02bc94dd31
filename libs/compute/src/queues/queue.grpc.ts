import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  CreateQueueResponseSchema,
  DeleteQueueResponseSchema,
  GetQueueResponseSchema,
  ListQueuesResponseSchema,
  UpdateQueueResponseSchema,
  type CreateQueueRequest,
  type CreateQueueResponse,
  type DeleteQueueRequest,
  type DeleteQueueResponse,
  type GetQueueRequest,
  type GetQueueResponse,
  type ListQueuesRequest,
  type ListQueuesResponse,
  type UpdateQueueRequest,
  type UpdateQueueResponse,
} from '@trellis/proto';
import { queueToProto } from './queue.mapping';
import { QueueService, QUEUE_KIND } from './queue.service';

/** Handlers of `trellis.compute.v1.ComputeService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class QueueGrpc {
  constructor(private readonly queues: QueueService) {}

  @GrpcMethod('ComputeService', 'CreateQueue')
  @Requires('create', QUEUE_KIND)
  async createQueue(request: CreateQueueRequest, metadata: Metadata): Promise<CreateQueueResponse> {
    const created = await this.queues.create(callerOf(metadata), { projectId: request.projectId, name: request.name, description: request.description });
    return create(CreateQueueResponseSchema, { queue: queueToProto(created) });
  }

  @GrpcMethod('ComputeService', 'GetQueue')
  @Requires('read', QUEUE_KIND)
  async getQueue(request: GetQueueRequest, metadata: Metadata): Promise<GetQueueResponse> {
    return create(GetQueueResponseSchema, { queue: queueToProto(await this.queues.get(callerOf(metadata), request.queueId)) });
  }

  @GrpcMethod('ComputeService', 'ListQueues')
  @Requires('read', QUEUE_KIND)
  async listQueues(request: ListQueuesRequest, metadata: Metadata): Promise<ListQueuesResponse> {
    const page = await this.queues.list(callerOf(metadata), { projectId: request.projectId, pageSize: request.pageSize, pageToken: request.pageToken });
    return create(ListQueuesResponseSchema, { queues: page.queues.map(queueToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('ComputeService', 'UpdateQueue')
  @Requires('update', QUEUE_KIND)
  async updateQueue(request: UpdateQueueRequest, metadata: Metadata): Promise<UpdateQueueResponse> {
    const updated = await this.queues.update(callerOf(metadata), request.queue?.id ?? '', {
      description: request.queue?.description ?? '',
      updateMask: request.updateMask?.paths ?? [],
    });
    return create(UpdateQueueResponseSchema, { queue: queueToProto(updated) });
  }

  @GrpcMethod('ComputeService', 'DeleteQueue')
  @Requires('delete', QUEUE_KIND)
  async deleteQueue(request: DeleteQueueRequest, metadata: Metadata): Promise<DeleteQueueResponse> {
    await this.queues.delete(callerOf(metadata), request.queueId);
    return create(DeleteQueueResponseSchema);
  }
}
