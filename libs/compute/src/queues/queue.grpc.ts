import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated, callerOf, InvalidArgumentError } from '@trellis/platform';
import {
  CreateQueueResponseSchema,
  DeleteGrantResponseSchema,
  DeleteQueueResponseSchema,
  GetGrantResponseSchema,
  GetQueueResponseSchema,
  ListGrantsResponseSchema,
  ListQueuesResponseSchema,
  SetGrantResponseSchema,
  UpdateQueueResponseSchema,
  type CreateQueueRequest,
  type CreateQueueResponse,
  type DeleteGrantRequest,
  type DeleteGrantResponse,
  type DeleteQueueRequest,
  type DeleteQueueResponse,
  type GetGrantRequest,
  type GetGrantResponse,
  type GetQueueRequest,
  type GetQueueResponse,
  type ListGrantsRequest,
  type ListGrantsResponse,
  type ListQueuesRequest,
  type ListQueuesResponse,
  type Queue,
  type SetGrantRequest,
  type SetGrantResponse,
  type UpdateQueueRequest,
  type UpdateQueueResponse,
} from '@trellis/proto';
import { GrantService, type GrantView } from './grant.service';
import { grantToProto, placementOf, queueToProto, reclaimOf, withinOf } from './queue.mapping';
import { QUEUE_KIND, QueueService, type QueueFields } from './queue.service';

/**
 * Handlers of `trellis.compute.v1.QueueService`. Queues are the org's, so the kit only checks
 * that a caller is authenticated; the services decide (org admins change, members read grants).
 */
@Controller()
export class QueueGrpc {
  constructor(
    private readonly queues: QueueService,
    private readonly grants: GrantService,
  ) {}

  @GrpcMethod('QueueService', 'CreateQueue')
  @Authenticated('create', QUEUE_KIND)
  async createQueue(request: CreateQueueRequest, metadata: Metadata): Promise<CreateQueueResponse> {
    return create(CreateQueueResponseSchema, { queue: queueToProto(await this.queues.create(callerOf(metadata), fieldsOf(request.queue))) });
  }

  @GrpcMethod('QueueService', 'GetQueue')
  @Authenticated('read', QUEUE_KIND)
  async getQueue(request: GetQueueRequest, metadata: Metadata): Promise<GetQueueResponse> {
    return create(GetQueueResponseSchema, { queue: queueToProto(await this.queues.get(callerOf(metadata), request.name)) });
  }

  @GrpcMethod('QueueService', 'ListQueues')
  @Authenticated('read', QUEUE_KIND)
  async listQueues(request: ListQueuesRequest, metadata: Metadata): Promise<ListQueuesResponse> {
    const page = await this.queues.list(callerOf(metadata), request.pageSize, request.pageToken);
    return create(ListQueuesResponseSchema, { queues: page.queues.map(queueToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('QueueService', 'UpdateQueue')
  @Authenticated('update', QUEUE_KIND)
  async updateQueue(request: UpdateQueueRequest, metadata: Metadata): Promise<UpdateQueueResponse> {
    const updated = await this.queues.update(callerOf(metadata), fieldsOf(request.queue), request.updateMask?.paths ?? []);
    return create(UpdateQueueResponseSchema, { queue: queueToProto(updated) });
  }

  @GrpcMethod('QueueService', 'DeleteQueue')
  @Authenticated('delete', QUEUE_KIND)
  async deleteQueue(request: DeleteQueueRequest, metadata: Metadata): Promise<DeleteQueueResponse> {
    await this.queues.delete(callerOf(metadata), request.name);
    return create(DeleteQueueResponseSchema);
  }

  @GrpcMethod('QueueService', 'SetGrant')
  @Authenticated('update', QUEUE_KIND)
  async setGrant(request: SetGrantRequest, metadata: Metadata): Promise<SetGrantResponse> {
    const quotas = request.quotas.map((quota) => ({
      resource: quota.resource,
      nominal: Number(quota.nominal),
      borrowingLimit: quota.borrowingLimit === undefined ? undefined : Number(quota.borrowingLimit),
      lendingLimit: quota.lendingLimit === undefined ? undefined : Number(quota.lendingLimit),
    }));
    return create(SetGrantResponseSchema, { grant: viewToProto(await this.grants.set(callerOf(metadata), request.queue, request.projectId, quotas)) });
  }

  @GrpcMethod('QueueService', 'GetGrant')
  @Authenticated('read', QUEUE_KIND)
  async getGrant(request: GetGrantRequest, metadata: Metadata): Promise<GetGrantResponse> {
    return create(GetGrantResponseSchema, { grant: viewToProto(await this.grants.get(callerOf(metadata), request.queue, request.projectId)) });
  }

  @GrpcMethod('QueueService', 'ListGrants')
  @Authenticated('read', QUEUE_KIND)
  async listGrants(request: ListGrantsRequest, metadata: Metadata): Promise<ListGrantsResponse> {
    const page = await this.grants.list(callerOf(metadata), request);
    return create(ListGrantsResponseSchema, { grants: page.grants.map(viewToProto), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('QueueService', 'DeleteGrant')
  @Authenticated('update', QUEUE_KIND)
  async deleteGrant(request: DeleteGrantRequest, metadata: Metadata): Promise<DeleteGrantResponse> {
    await this.grants.delete(callerOf(metadata), request.queue, request.projectId);
    return create(DeleteGrantResponseSchema);
  }
}

/** The queue's fields; a queue with the single `cluster` and no `clusters` is on that cluster alone. */
function fieldsOf(queue: Queue | undefined): QueueFields {
  const placement = placementOf(queue?.placement ?? 0);
  if (placement === undefined) throw new InvalidArgumentError(`must be a PlacementPolicy value (got ${queue?.placement})`, 'queue.placement');
  const clusters = queue?.clusters.length ? queue.clusters : queue?.cluster ? [{ name: queue.cluster, costWeight: 0 }] : [];
  return {
    name: queue?.name ?? '',
    clusters: clusters.map(({ name, costWeight }) => ({ name, costWeight })),
    placement,
    cohort: queue?.cohort ?? '',
    reclaimWithinCohort: reclaimOf(queue?.preemption?.reclaimWithinCohort ?? 0),
    withinQueue: withinOf(queue?.preemption?.withinQueue ?? 0),
    description: queue?.description ?? '',
  };
}

function viewToProto(view: GrantView) {
  return grantToProto(view.grant, view.usage);
}
