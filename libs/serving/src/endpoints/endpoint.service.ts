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
  decodePageToken,
  excerpt,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  ResourceExhaustedError,
  SERVICE_CONFIG,
} from '@trellis/platform';
import { EndpointCreatedEventSchema, EndpointDeletedEventSchema, EndpointTrafficChangedEventSchema, RevisionCreatedEventSchema, TrafficChangeCause } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { ServingConfig } from '../serving.config';
import { servingEvents } from '../serving.events';
import { EndpointEntity, RevisionEntity, type StoredResources } from './endpoint.entity';
import { endpointToProto, revisionToProto, type EndpointView } from './endpoint.mapping';
import { EndpointRepository } from './endpoint.repository';
import { PredictionLog } from '../predictions/prediction-log';
import { RevisionLoader } from '../revisions/revision-loader';
import { policyOf, type PolicyInput } from '../rollouts/rollout-policy';
import { RolloutRepository } from '../rollouts/rollout.repository';
import { checkLoggingShare } from './logging-share';
import { ModelVersions, type ResolvedModel } from './model-versions';
import { Runtimes } from './runtimes';
import { checkSplit, revisionsOf, sameSplit, withNewTarget, type StoredSplit } from './traffic';

/** The resource kind of endpoints in permission rules and audit records. */
export const ENDPOINT_KIND = 'Endpoint';

/** Limits as the protos declare them. */
const LIMITS = {
  descriptionLength: 4096,
  replicas: 64,
  cpuMillicores: 1_024_000,
  memoryBytes: 4 * 1024 ** 4,
  gpus: 64,
  gpuTypeLength: 63,
  maxBatchSize: 4096,
  maxQueueDelayUs: 1_000_000,
};

/** An endpoint name is a path segment of inference URLs (/v2/models/<name>/infer). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** How a revision is deployed: the version to resolve, where it runs, and on what. */
export interface RevisionSpec {
  /** models:/<name>/<version> or models:/<name>@<alias>. */
  model: string;
  /** A runtime instance's name; empty for the service's only one. */
  runtime: string;
  /** 0 means 1. */
  replicas: number;
  resources: StoredResources;
}

/** What a new endpoint needs: its name and its first revision. */
export interface NewEndpoint extends RevisionSpec {
  projectId: string;
  name: string;
  description: string;
  batching: { maxBatchSize: number; maxQueueDelayUs: number };
  /** The alias it follows with progressive rollouts from the start; undefined for none. */
  rolloutPolicy?: PolicyInput;
  /** Its own share of requests logged; undefined to follow the service default. */
  predictionLogShare?: number;
}

/** A revision deployed behind an endpoint and what it gets: a share of the traffic (undefined: all), or the shadow. */
export interface NewRevision extends RevisionSpec {
  trafficPercent: number | undefined;
  shadow: boolean;
}

/** Work a caller adds to a change's transaction, given what the change made: both commit, or neither. */
export type InSameTransaction<T> = (tx: EntityManager, changed: T) => Promise<void>;

/** Which of a project's endpoints to list, and which page. */
export interface EndpointListQuery {
  projectId: string;
  /** 0 means 100; more than 1000 is INVALID_ARGUMENT. */
  pageSize: number;
  /** `nextPageToken` of the previous page, or empty for the first. */
  pageToken: string;
}

/** One page of endpoints, in name order. */
export interface EndpointPage {
  endpoints: EndpointView[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * The endpoints of each project and their revisions: who may do what, model references resolved
 * through the registry as the caller, and each change written with its events and its audit record
 * in one transaction.
 */
@Injectable()
export class EndpointService {
  constructor(
    private readonly repository: EndpointRepository,
    private readonly models: ModelVersions,
    private readonly runtimes: Runtimes,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly loader: RevisionLoader,
    private readonly rollouts: RolloutRepository,
    private readonly predictionLog: PredictionLog,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
  ) {}

  /** Creates the endpoint with its first revision answering all of its traffic, and its rollout policy and logging share when given, in one transaction. */
  async create(caller: Caller, input: NewEndpoint): Promise<EndpointView> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', ENDPOINT_KIND, { projectId: input.projectId });
    checkName(input.name);
    checkDescription(input.description);
    checkBatching(input.batching);
    const runtime = this.checkRevisionSpec(input);
    const id = randomUUID();
    const rolloutPolicy = input.rolloutPolicy && policyOf(caller, { id, name: input.name, projectId: input.projectId }, input.rolloutPolicy, 'rollout_policy');
    const share = input.predictionLogShare;
    if (share !== undefined) checkLoggingShare(share, 'prediction_log_share');
    const model = await this.models.resolve(caller, input.projectId, input.model);
    const view = await this.repository.transaction(async (tx) => {
      if (await this.repository.nameTaken(tx, input.projectId, input.name)) {
        throw new AlreadyExistsError(`project ${input.projectId} already has an endpoint named "${excerpt(input.name)}"`, { reason: 'ENDPOINT_NAME_TAKEN' });
      }
      const limit = this.config.maxEndpointsPerProject;
      if ((await this.repository.countIn(tx, input.projectId)) >= limit) {
        throw new ResourceExhaustedError(`project ${input.projectId} holds ${limit} endpoints, the most services.serving.maxEndpointsPerProject allows; delete one first`, undefined, {
          reason: 'ENDPOINTS_LIMIT_REACHED',
        });
      }
      const now = Date.now();
      const endpoint: EndpointEntity = {
        id,
        projectId: input.projectId,
        name: input.name,
        description: input.description,
        maxBatchSize: input.batching.maxBatchSize,
        maxQueueDelayUs: input.batching.maxQueueDelayUs,
        traffic: { targets: [], shadowRevisionId: '' },
        previousTraffic: null,
        revisionCount: 1,
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
      };
      const revision = revisionOf(caller, endpoint, 1, input, runtime, model, now);
      endpoint.traffic = { targets: [{ revisionId: revision.id, percent: 100 }], shadowRevisionId: '' };
      await this.repository.insert(tx, endpoint);
      await this.repository.insertRevision(tx, revision);
      if (rolloutPolicy) await this.rollouts.savePolicy(tx, rolloutPolicy);
      if (share !== undefined) await this.repository.insertLoggingShare(tx, { endpointId: id, projectId: input.projectId, sampleShare: share });
      const view = { endpoint, revisions: [revision], rolloutPolicy };
      await this.outbox.publish(tx, servingEvents, {
        subject: 'trellis.serving.v1.endpoint.created',
        message: create(EndpointCreatedEventSchema, { endpoint: endpointToProto(view) }),
        ...contextOf(caller, endpoint.projectId),
      });
      await this.outbox.publish(tx, servingEvents, revisionCreated(caller, endpoint, revision));
      await this.audit.recordIn(tx, caller, { id: endpoint.id, projectId: endpoint.projectId });
      return view;
    });
    if (share !== undefined) this.predictionLog.applyShare(id, share);
    this.loader.start(view.endpoint, view.revisions[0]);
    return view;
  }

  /** The endpoint, if the caller may read it. */
  async get(caller: Caller, id: string): Promise<EndpointView> {
    checkRequired(id, 'endpoint_id');
    const endpoint = visible(caller, await this.repository.findById(id), id, 'read');
    const [view] = await this.withRevisionsAndRollouts([endpoint]);
    return view;
  }

  /** A page of the project's endpoints, in name order. */
  async list(caller: Caller, query: EndpointListQuery): Promise<EndpointPage> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', ENDPOINT_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId };
    const after = decodePageToken(query.pageToken, listing);
    const rows = await this.repository.page(query.projectId, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (row) => row.name, listing);
    return { endpoints: await this.withRevisionsAndRollouts(items), nextPageToken };
  }

  /** The endpoints with the revisions their splits name, their rollout policies and latest rollouts, read for all of them at once. */
  private async withRevisionsAndRollouts(endpoints: EndpointEntity[]): Promise<EndpointView[]> {
    const revisions = await this.repository.revisions(endpoints.flatMap(namedRevisions));
    const { policies, latest } = await this.repository.rollouts(endpoints.map((endpoint) => endpoint.id));
    return endpoints.map((endpoint) => ({
      endpoint,
      revisions: revisions.filter((revision) => revision.endpointId === endpoint.id),
      rolloutPolicy: policies.find((policy) => policy.endpointId === endpoint.id),
      rollout: latest.find((rollout) => rollout.endpointId === endpoint.id),
    }));
  }

  /** Removes the endpoint and its revisions, and says so in an event. */
  async delete(caller: Caller, id: string): Promise<void> {
    checkRequired(id, 'endpoint_id');
    const deleted = await this.repository.transaction(async (tx) => {
      const endpoint = visible(caller, await this.repository.lockById(tx, id), id, 'delete');
      const view = { endpoint, revisions: await this.repository.revisions(namedRevisions(endpoint), tx) };
      await this.repository.delete(tx, id);
      await this.outbox.publish(tx, servingEvents, {
        subject: 'trellis.serving.v1.endpoint.deleted',
        message: create(EndpointDeletedEventSchema, { endpoint: endpointToProto(view) }),
        ...contextOf(caller, endpoint.projectId),
      });
      await this.audit.recordIn(tx, caller);
      return view;
    });
    await this.loader.unload(deleted.revisions.map((revision) => revision.id));
  }

  /** Deploys a version as the endpoint's next revision, with its share of the traffic or as the shadow; `also` runs in its transaction. */
  async deploy(caller: Caller, endpointId: string, input: NewRevision, also?: InSameTransaction<{ revision: RevisionEntity; view: EndpointView }>): Promise<{ revision: RevisionEntity; view: EndpointView }> {
    checkRequired(endpointId, 'endpoint_id');
    const percent = input.trafficPercent ?? (input.shadow ? 0 : 100);
    if (input.shadow && input.trafficPercent !== undefined) throw new InvalidArgumentError('cannot be set with shadow: a shadow answers no traffic', 'traffic_percent');
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new InvalidArgumentError(`must be 0 to 100, not ${percent}`, 'traffic_percent');
    const runtime = this.checkRevisionSpec(input);
    const before = visible(caller, await this.repository.findById(endpointId), endpointId, 'update');
    const model = await this.models.resolve(caller, before.projectId, input.model);
    const deployed = await this.repository.transaction(async (tx) => {
      const endpoint = visible(caller, await this.repository.lockById(tx, endpointId), endpointId, 'update');
      const now = Date.now();
      const revision = revisionOf(caller, endpoint, endpoint.revisionCount + 1, input, runtime, model, now);
      const traffic = input.shadow ? { ...endpoint.traffic, shadowRevisionId: revision.id } : withNewTarget(endpoint.traffic, revision.id, percent);
      const changed = !sameSplit(traffic, endpoint.traffic);
      await this.repository.insertRevision(tx, revision);
      Object.assign(endpoint, { revisionCount: revision.number, updatedAt: now }, changed ? { traffic, previousTraffic: endpoint.traffic } : {});
      await this.repository.update(tx, endpoint.id, { revisionCount: endpoint.revisionCount, updatedAt: now, traffic: endpoint.traffic, previousTraffic: endpoint.previousTraffic });
      const view = { endpoint, revisions: await this.repository.revisions(namedRevisions(endpoint), tx) };
      await this.outbox.publish(tx, servingEvents, revisionCreated(caller, endpoint, revision));
      if (changed) await this.outbox.publish(tx, servingEvents, trafficChanged(caller, view, TrafficChangeCause.DEPLOY));
      await this.audit.recordIn(tx, caller, { id: revision.id, projectId: endpoint.projectId, kind: 'Revision' });
      await also?.(tx, { revision, view });
      return { revision, view };
    });
    this.loader.start(deployed.view.endpoint, deployed.revision);
    return deployed;
  }

  /** Replaces the endpoint's split and shadow; the split it had becomes the one a rollback restores. `also` runs in its transaction. */
  async setTraffic(caller: Caller, endpointId: string, split: StoredSplit, also?: InSameTransaction<EndpointView>): Promise<EndpointView> {
    checkRequired(endpointId, 'endpoint_id');
    checkSplit(split);
    return this.repository.transaction(async (tx) => {
      const endpoint = visible(caller, await this.repository.lockById(tx, endpointId), endpointId, 'update');
      const named = await this.repository.revisions(revisionsOf(split), tx);
      checkRevisions(endpoint, split, named);
      const view = sameSplit(split, endpoint.traffic)
        ? { endpoint, revisions: await this.repository.revisions(namedRevisions(endpoint), tx) }
        : await this.changeTraffic(tx, caller, endpoint, split, TrafficChangeCause.SET);
      await also?.(tx, view);
      return view;
    });
  }

  /** Restores the split the endpoint had before its last change; the one it replaces becomes the previous one. */
  async rollback(caller: Caller, endpointId: string): Promise<EndpointView> {
    checkRequired(endpointId, 'endpoint_id');
    return this.repository.transaction(async (tx) => {
      const endpoint = visible(caller, await this.repository.lockById(tx, endpointId), endpointId, 'update');
      if (!endpoint.previousTraffic) {
        throw new FailedPreconditionError(`endpoint ${endpoint.name} has had one traffic split since it was created; there is nothing to roll back to`, { reason: 'NO_PREVIOUS_TRAFFIC' });
      }
      return this.changeTraffic(tx, caller, endpoint, endpoint.previousTraffic, TrafficChangeCause.ROLLBACK);
    });
  }

  /** The project's endpoint of that name, for inference (no permission check: the caller of this does its own). */
  async byName(projectId: string, name: string): Promise<EndpointView | undefined> {
    const endpoint = await this.repository.findByName(projectId, name);
    return endpoint ? { endpoint, revisions: await this.repository.revisions(namedRevisions(endpoint)) } : undefined;
  }

  private async changeTraffic(tx: EntityManager, caller: Caller, endpoint: EndpointEntity, traffic: StoredSplit, cause: TrafficChangeCause): Promise<EndpointView> {
    Object.assign(endpoint, { traffic, previousTraffic: endpoint.traffic, updatedAt: Date.now() });
    await this.repository.update(tx, endpoint.id, { traffic: endpoint.traffic, previousTraffic: endpoint.previousTraffic, updatedAt: endpoint.updatedAt });
    const view = { endpoint, revisions: await this.repository.revisions(namedRevisions(endpoint), tx) };
    await this.outbox.publish(tx, servingEvents, trafficChanged(caller, view, cause));
    await this.audit.recordIn(tx, caller);
    return view;
  }

  /** Checks replicas and resources and returns the runtime instance the revision runs on. */
  private checkRevisionSpec(spec: RevisionSpec): string {
    checkRequired(spec.model, 'model');
    checkWithin(spec.replicas, LIMITS.replicas, 'replicas');
    checkWithin(spec.resources.cpuMillicores, LIMITS.cpuMillicores, 'resources.cpu_millicores');
    checkWithin(spec.resources.memoryBytes, LIMITS.memoryBytes, 'resources.memory_bytes');
    checkWithin(spec.resources.gpus, LIMITS.gpus, 'resources.gpus');
    checkLength(spec.resources.gpuType, LIMITS.gpuTypeLength, 'resources.gpu_type');
    checkNoControlCharacters(spec.resources.gpuType, 'resources.gpu_type');
    return this.runtimes.choose(spec.runtime);
  }
}

/**
 * The endpoint after checking that the caller may `action` it. One the caller may not even read
 * is NOT_FOUND, as a missing one is, so that ids of other projects' endpoints do not leak.
 */
function visible(caller: Caller, endpoint: EndpointEntity | null, id: string, action: Action): EndpointEntity {
  if (!endpoint || !caller.can('read', ENDPOINT_KIND, { projectId: endpoint.projectId, id: endpoint.id })) {
    throw new NotFoundError(`endpoint ${excerpt(id)} not found`, { reason: 'ENDPOINT_NOT_FOUND' });
  }
  caller.assert(action, ENDPOINT_KIND, { projectId: endpoint.projectId, id: endpoint.id });
  return endpoint;
}

/** NOT_FOUND (REVISION_NOT_FOUND) for a revision of the split the endpoint does not have; FAILED_PRECONDITION (REVISION_FAILED) for one that could not load. */
function checkRevisions(endpoint: EndpointEntity, split: StoredSplit, found: readonly RevisionEntity[]): void {
  const own = new Map(found.filter((revision) => revision.endpointId === endpoint.id).map((revision) => [revision.id, revision]));
  for (const id of revisionsOf(split)) {
    const revision = own.get(id);
    if (!revision) throw new NotFoundError(`endpoint ${endpoint.name} has no revision ${excerpt(id)}`, { reason: 'REVISION_NOT_FOUND' });
    if (revision.state === 'FAILED') {
      throw new FailedPreconditionError(`revision ${revision.number} (${id}) of endpoint ${endpoint.name} failed to load: ${excerpt(revision.stateMessage)}`, { reason: 'REVISION_FAILED' });
    }
  }
}

/** The revisions the endpoint's current and previous splits name. */
function namedRevisions(endpoint: EndpointEntity): string[] {
  return [...revisionsOf(endpoint.traffic), ...revisionsOf(endpoint.previousTraffic)];
}

function revisionOf(caller: Caller, endpoint: EndpointEntity, number: number, spec: RevisionSpec, runtime: string, model: ResolvedModel, now: number): RevisionEntity {
  return {
    id: randomUUID(),
    endpointId: endpoint.id,
    number,
    ...model,
    runtime,
    replicas: spec.replicas || 1,
    resources: spec.resources,
    state: 'PENDING',
    stateMessage: '',
    creatorId: caller.authenticated.id,
    createdAt: now,
  };
}

function revisionCreated(caller: Caller, endpoint: EndpointEntity, revision: RevisionEntity) {
  return {
    subject: 'trellis.serving.v1.revision.created' as const,
    message: create(RevisionCreatedEventSchema, { revision: revisionToProto(revision), projectId: endpoint.projectId, endpointName: endpoint.name }),
    ...contextOf(caller, endpoint.projectId),
  };
}

function trafficChanged(caller: Caller, view: EndpointView, cause: TrafficChangeCause) {
  return {
    subject: 'trellis.serving.v1.endpoint.traffic_changed' as const,
    message: create(EndpointTrafficChangedEventSchema, { endpoint: endpointToProto(view), cause }),
    ...contextOf(caller, view.endpoint.projectId),
  };
}

/** Who caused an event, for its envelope. */
function contextOf(caller: Caller, projectId: string) {
  return { projectId, actor: caller.authenticated.id, requestId: caller.requestId };
}

/** A name: a path segment of inference URLs, 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit. */
function checkName(name: string): void {
  checkRequired(name, 'name');
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`"${excerpt(name)}" must be 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit (it is a path segment of inference URLs)`, 'name');
  }
}

/** A description: at most 4096 characters, no NUL (which PostgreSQL cannot store). */
function checkDescription(description: string): void {
  checkLength(description, LIMITS.descriptionLength, 'description');
  checkNoNul(description, 'description');
}

function checkBatching(batching: NewEndpoint['batching']): void {
  checkWithin(batching.maxBatchSize, LIMITS.maxBatchSize, 'batching.max_batch_size');
  checkWithin(batching.maxQueueDelayUs, LIMITS.maxQueueDelayUs, 'batching.max_queue_delay_us');
}

/** INVALID_ARGUMENT naming the field unless `value` is a whole number from 0 to `max`. */
function checkWithin(value: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new InvalidArgumentError(`must be 0 to ${max}, not ${value}`, field);
}
