import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Caller,
  checkLength,
  checkNoNul,
  checkUpdateMask,
  decodePageToken,
  excerpt,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  pageOf,
  pageSizeOf,
  PermissionDeniedError,
} from '@trellis/platform';
import type { ReclaimWithinCohort, WithinQueue } from '../admission';
import { ClusterService } from '../clusters/cluster.service';
import { AdmissionSignal } from '../scheduling/admission-signal';
import { QueueEntity } from './queue.entity';
import { QueueRepository } from './queue.repository';

/** The resource kind of queues (and their grants) in permission rules and audit records. */
export const QUEUE_KIND = 'Queue';

/** Queue and cohort names: DNS labels, as Kueue's are. */
export const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The fields UpdateQueue may change. */
const UPDATABLE = ['cohort', 'preemption', 'description'] as const;

/** What a new queue, or an update of one, holds. */
export interface QueueFields {
  name: string;
  cluster: string;
  cohort: string;
  reclaimWithinCohort: ReclaimWithinCohort;
  withinQueue: WithinQueue;
  description: string;
}

/** One page of queues, in name order. */
export interface QueuePage {
  queues: QueueEntity[];
  nextPageToken: string;
}

/** Queues are the org's: its admins make them, anyone may read them; each change is audited. */
@Injectable()
export class QueueService {
  constructor(
    private readonly repository: QueueRepository,
    private readonly clusters: ClusterService,
    private readonly audit: AuditRecorder,
    private readonly admission: AdmissionSignal,
  ) {}

  /** Stores a new queue on an existing cluster. */
  async create(caller: Caller, input: QueueFields): Promise<QueueEntity> {
    assertOrgAdmin(caller, input.name);
    checkQueueName(input.name, 'queue.name');
    this.clusters.check(input.cluster, 'queue.cluster');
    checkCohort(input.cohort);
    checkDescription(input.description);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.find(input.name, tx)) throw new AlreadyExistsError(`a queue is already named "${input.name}"`, { reason: 'QUEUE_NAME_TAKEN' });
      const now = Date.now();
      const queue: QueueEntity = { ...input, orgId: caller.authenticated.orgId, creatorId: caller.authenticated.id, createdAt: now, updatedAt: now };
      await this.repository.save(tx, queue);
      await this.audit.recordIn(tx, caller, { id: queue.name, projectId: '', name: queueResource(queue.name) });
      return queue;
    });
  }

  /** The queue, if it is the caller's org's; NOT_FOUND `QUEUE_NOT_FOUND` otherwise. */
  async get(caller: Caller, name: string): Promise<QueueEntity> {
    return found(await this.repository.find(name), name, caller);
  }

  /** A page of the caller's org's queues in name order. */
  async list(caller: Caller, pageSize: number, pageToken: string): Promise<QueuePage> {
    const size = pageSizeOf(pageSize);
    const after = decodePageToken(pageToken);
    const { items, nextPageToken } = pageOf(await this.repository.page(caller.authenticated.orgId, after, size + 1), size, (queue) => queue.name);
    return { queues: items, nextPageToken };
  }

  /** Changes the fields the mask names (`*`: all that can change). */
  async update(caller: Caller, input: QueueFields, updateMask: readonly string[]): Promise<QueueEntity> {
    assertOrgAdmin(caller, input.name);
    const mask = checkUpdateMask(updateMask.length === 1 && updateMask[0] === '*' ? UPDATABLE : updateMask, UPDATABLE);
    if (mask.has('cohort')) checkCohort(input.cohort);
    if (mask.has('description')) checkDescription(input.description);
    const queue = await this.repository.transaction(async (tx) => {
      const stored = found(await this.repository.lock(tx, input.name), input.name, caller);
      if (mask.has('cohort')) stored.cohort = input.cohort;
      if (mask.has('preemption')) Object.assign(stored, { reclaimWithinCohort: input.reclaimWithinCohort, withinQueue: input.withinQueue });
      if (mask.has('description')) stored.description = input.description;
      stored.updatedAt = Date.now();
      await this.repository.save(tx, stored);
      await this.audit.recordIn(tx, caller);
      return stored;
    });
    this.admission.wake();
    return queue;
  }

  /** Removes a queue without live jobs, and its grants. */
  async delete(caller: Caller, name: string): Promise<void> {
    assertOrgAdmin(caller, name);
    await this.repository.transaction(async (tx) => {
      found(await this.repository.lock(tx, name), name, caller);
      if (await this.repository.hasLiveJobs(tx, name)) {
        throw new FailedPreconditionError(`queue ${name} still has jobs that are not finished; cancel them or wait for them first`, { reason: 'QUEUE_HAS_JOBS' });
      }
      await this.repository.delete(tx, name);
      await this.audit.recordIn(tx, caller);
    });
  }
}

/** The resource name of a queue in audit records and errors. */
export function queueResource(name: string): string {
  return `queues/${excerpt(name)}`;
}

/** PERMISSION_DENIED `ORG_ADMIN_REQUIRED` unless the caller is an org admin; names the queue as the call's audit target. */
export function assertOrgAdmin(caller: Caller, queue: string): void {
  caller.target = { kind: QUEUE_KIND, projectId: '', name: queueResource(queue) };
  if (caller.authenticated.orgAdmin) return;
  throw new PermissionDeniedError(`${caller.authenticated.id} may not change queues or grants: only org admins may`, { reason: 'ORG_ADMIN_REQUIRED', resource: queueResource(queue) });
}

/** The queue, if it is the caller's org's; NOT_FOUND `QUEUE_NOT_FOUND` otherwise (another org's queues look missing). */
export function found(queue: QueueEntity | null, name: string, caller: Caller): QueueEntity {
  if (queue && queue.orgId === caller.authenticated.orgId) return queue;
  throw new NotFoundError(`no queue is named "${excerpt(name)}"`, { reason: 'QUEUE_NOT_FOUND', resource: queueResource(name) });
}

/** A queue name: a DNS label of 1 to 63 characters. */
export function checkQueueName(name: string, field: string): void {
  if (!QUEUE_NAME.test(name)) throw new InvalidArgumentError(`must be 1 to 63 of a-z, 0-9 and '-', starting and ending with a letter or digit (got "${excerpt(name)}")`, field);
}

function checkCohort(cohort: string): void {
  if (cohort !== '') checkQueueName(cohort, 'queue.cohort');
}

function checkDescription(description: string): void {
  checkLength(description, 4096, 'queue.description');
  checkNoNul(description, 'queue.description');
}
