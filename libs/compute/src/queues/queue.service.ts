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
} from '@trellis/platform';
import type { PlacementPolicy, ReclaimWithinCohort, WithinQueue } from '../admission';
import { ClusterService } from '../clusters/cluster.service';
import { AdmissionSignal } from '../scheduling/admission-signal';
import { QueueEntity, type StoredQueueCluster } from './queue.entity';
import { QueueRepository } from './queue.repository';

/** The resource kind of queues (and their grants) in permission rules and audit records. */
export const QUEUE_KIND = 'Queue';

/** Queue and cohort names: DNS labels, as Kueue's are. */
export const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The fields UpdateQueue may change. */
const UPDATABLE = ['clusters', 'placement', 'cohort', 'preemption', 'description'] as const;

/** The most clusters one queue places jobs on. */
export const MAX_QUEUE_CLUSTERS = 16;

/** What a new queue, or an update of one, holds. */
export interface QueueFields {
  name: string;
  /** In order of preference; a request that names only the old single `cluster` gives it alone. */
  clusters: StoredQueueCluster[];
  placement: PlacementPolicy;
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

  /** Stores a new queue on existing clusters. */
  async create(caller: Caller, input: QueueFields): Promise<QueueEntity> {
    assertOrgAdmin(caller, input.name);
    checkQueueName(input.name, 'queue.name');
    this.checkClusters(input.clusters);
    checkCohort(input.cohort);
    checkDescription(input.description);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.find(input.name, tx)) throw new AlreadyExistsError(`a queue is already named "${input.name}"`, { reason: 'QUEUE_NAME_TAKEN' });
      const now = Date.now();
      const queue: QueueEntity = { ...input, cluster: input.clusters[0].name, orgId: caller.authenticated.orgId, creatorId: caller.authenticated.id, createdAt: now, updatedAt: now };
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

  /** Changes the fields the mask names (`*`: all that can change); jobs already placed on a cluster the queue leaves stay there. */
  async update(caller: Caller, input: QueueFields, updateMask: readonly string[]): Promise<QueueEntity> {
    assertOrgAdmin(caller, input.name);
    const mask = checkUpdateMask(updateMask.length === 1 && updateMask[0] === '*' ? UPDATABLE : updateMask, UPDATABLE);
    if (mask.has('clusters')) this.checkClusters(input.clusters);
    if (mask.has('cohort')) checkCohort(input.cohort);
    if (mask.has('description')) checkDescription(input.description);
    const queue = await this.repository.transaction(async (tx) => {
      const stored = found(await this.repository.lock(tx, input.name), input.name, caller);
      if (mask.has('clusters')) Object.assign(stored, { clusters: input.clusters, cluster: input.clusters[0].name });
      if (mask.has('placement')) stored.placement = input.placement;
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

  /** INVALID_ARGUMENT unless 1 to 16 clusters, each named once with a finite cost weight of 0 or more; NOT_FOUND `CLUSTER_NOT_FOUND` for one the service does not have. */
  private checkClusters(clusters: readonly StoredQueueCluster[]): void {
    if (clusters.length === 0) throw new InvalidArgumentError('name at least one cluster the queue places its jobs on', 'queue.clusters');
    if (clusters.length > MAX_QUEUE_CLUSTERS) throw new InvalidArgumentError(`at most ${MAX_QUEUE_CLUSTERS} clusters (got ${clusters.length})`, 'queue.clusters');
    const seen = new Set<string>();
    clusters.forEach((cluster, index) => {
      const field = `queue.clusters[${index}]`;
      if (seen.has(cluster.name)) throw new InvalidArgumentError(`cluster "${excerpt(cluster.name)}" is named twice`, `${field}.name`);
      seen.add(cluster.name);
      if (!Number.isFinite(cluster.costWeight) || cluster.costWeight < 0) throw new InvalidArgumentError(`must be a finite number of 0 or more (0 means 1; got ${cluster.costWeight})`, `${field}.cost_weight`);
      this.clusters.check(cluster.name, `${field}.name`);
    });
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
  caller.assertOrgAdmin('change queues or grants', { kind: QUEUE_KIND, name: queueResource(queue) });
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
