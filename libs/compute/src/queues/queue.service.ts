import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Action,
  type Caller,
  checkLength,
  checkNoControlCharacters,
  checkNoNul,
  checkRequired,
  checkUpdateMask,
  decodePageToken,
  excerpt,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  ResourceExhaustedError,
  SERVICE_CONFIG,
} from '@trellis/platform';
import { QueueCreatedEventSchema, QueueDeletedEventSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { ComputeConfig } from '../compute.config';
import { computeEvents } from '../compute.events';
import { QueueEntity } from './queue.entity';
import { queueToProto } from './queue.mapping';
import { QueueRepository } from './queue.repository';

/** The resource kind of queues in permission rules and audit records. */
export const QUEUE_KIND = 'Queue';

/** The longest name and description, as resources.proto declares them. */
const LIMITS = { nameLength: 128, descriptionLength: 4096 };

/** The fields UpdateQueue may change, named in its update_mask. */
const UPDATABLE = ['description'] as const;

/** What a new queue needs. */
export interface NewQueue {
  projectId: string;
  name: string;
  description: string;
}

/** What UpdateQueue changes: the fields its mask names. */
export interface QueueUpdate {
  description: string;
  updateMask: readonly string[];
}

/** Which of a project's queues to list, and which page. */
export interface QueueListQuery {
  projectId: string;
  /** 0 means 100; more than 1000 means 1000. */
  pageSize: number;
  /** `nextPageToken` of the previous page, or empty for the first. */
  pageToken: string;
}

/** One page of queues, in name order. */
export interface QueuePage {
  queues: QueueEntity[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * The queues of each project: who may do what, and each change written with its event and
 * its audit record in one transaction.
 */
@Injectable()
export class QueueService {
  constructor(
    private readonly repository: QueueRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
  ) {}

  /** Stores a new queue by the caller; its name must be free in the project, and the project under its quota. */
  async create(caller: Caller, input: NewQueue): Promise<QueueEntity> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', QUEUE_KIND, { projectId: input.projectId });
    checkName(input.name);
    checkDescription(input.description);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.nameTaken(tx, input.projectId, input.name)) {
        throw new AlreadyExistsError(`project ${input.projectId} already has a queue named "${excerpt(input.name)}"`, { reason: 'QUEUE_NAME_TAKEN' });
      }
      const limit = this.config.maxQueuesPerProject;
      if ((await this.repository.countIn(tx, input.projectId)) >= limit) {
        throw new ResourceExhaustedError(`project ${input.projectId} holds ${limit} queues, the most services.compute.maxQueuesPerProject allows; delete one first`, undefined, {
          reason: 'QUEUES_LIMIT_REACHED',
        });
      }
      const now = Date.now();
      const queue: QueueEntity = { id: randomUUID(), ...input, creatorId: caller.authenticated.id, createdAt: now, updatedAt: now };
      await this.repository.insert(tx, queue);
      await this.outbox.publish(tx, computeEvents, {
        subject: 'trellis.compute.v1.queue.created',
        message: create(QueueCreatedEventSchema, { queue: queueToProto(queue) }),
        ...contextOf(caller, queue.projectId),
      });
      await this.audit.recordIn(tx, caller, { id: queue.id, projectId: queue.projectId });
      return queue;
    });
  }

  /** The queue, if the caller may read it. */
  async get(caller: Caller, id: string): Promise<QueueEntity> {
    checkRequired(id, 'queue_id');
    return visible(caller, await this.repository.findById(id), id, 'read');
  }

  /** A page of the project's queues, in name order. */
  async list(caller: Caller, query: QueueListQuery): Promise<QueuePage> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', QUEUE_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId };
    const after = decodePageToken(query.pageToken, listing);
    const rows = await this.repository.page(query.projectId, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (row) => row.name, listing);
    return { queues: items, nextPageToken };
  }

  /** Changes the fields the mask names (`*`: every field that can change) and nothing else. */
  async update(caller: Caller, id: string, update: QueueUpdate): Promise<QueueEntity> {
    checkRequired(id, 'queue.id');
    const paths = update.updateMask.length === 1 && update.updateMask[0] === '*' ? UPDATABLE : update.updateMask;
    const mask = checkUpdateMask(paths, UPDATABLE);
    const changes: Partial<QueueEntity> = {};
    if (mask.has('description')) {
      checkDescription(update.description, 'queue.description');
      changes.description = update.description;
    }
    return this.repository.transaction(async (tx) => {
      const queue = visible(caller, await this.repository.lockById(tx, id), id, 'update');
      Object.assign(queue, changes, { updatedAt: Date.now() });
      await this.repository.update(tx, id, { ...changes, updatedAt: queue.updatedAt });
      await this.audit.recordIn(tx, caller);
      return queue;
    });
  }

  /** Removes the queue and says so in an event. */
  async delete(caller: Caller, id: string): Promise<void> {
    checkRequired(id, 'queue_id');
    await this.repository.transaction(async (tx) => {
      const queue = visible(caller, await this.repository.lockById(tx, id), id, 'delete');
      await this.repository.delete(tx, id);
      await this.outbox.publish(tx, computeEvents, {
        subject: 'trellis.compute.v1.queue.deleted',
        message: create(QueueDeletedEventSchema, { queue: queueToProto(queue) }),
        ...contextOf(caller, queue.projectId),
      });
      await this.audit.recordIn(tx, caller);
    });
  }
}

/**
 * The queue after checking that the caller may `action` it. One the caller may not even read
 * is NOT_FOUND, as a missing one is, so that ids of other projects' queues do not leak.
 */
function visible(caller: Caller, queue: QueueEntity | null, id: string, action: Action): QueueEntity {
  if (!queue || !caller.can('read', QUEUE_KIND, { projectId: queue.projectId, id: queue.id })) {
    throw new NotFoundError(`queue ${excerpt(id)} not found`, { reason: 'QUEUE_NOT_FOUND' });
  }
  caller.assert(action, QUEUE_KIND, { projectId: queue.projectId, id: queue.id });
  return queue;
}

/** Who caused an event, for its envelope. */
function contextOf(caller: Caller, projectId: string) {
  return { projectId, actor: caller.authenticated.id, requestId: caller.requestId };
}

/** A name: required, at most 128 characters, no control character (names show in lists and logs). */
function checkName(name: string): void {
  checkRequired(name.trim(), 'name');
  checkLength(name, LIMITS.nameLength, 'name');
  checkNoControlCharacters(name, 'name');
}

/** A description: at most 4096 characters, no NUL (which PostgreSQL cannot store). */
function checkDescription(description: string, field = 'description'): void {
  checkLength(description, LIMITS.descriptionLength, field);
  checkNoNul(description, field);
}
