import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { excerpt, LOGGER, type Logger, Outbox, SERVICE_CONFIG } from '@trellis/platform';
import type { DynamicBatching, LoadedModel, LoadOptions, ModelSignature, WorkerModelRuntime } from '@trellis/plugin-sdk';
import { RevisionState, RevisionStateChangedEventSchema } from '@trellis/proto';
import type { EndpointEntity, RevisionEntity } from '../endpoints/endpoint.entity';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { revisionsOf } from '../endpoints/traffic';
import type { ServingConfig } from '../serving.config';
import { servingEvents } from '../serving.events';
import { ArtifactFetcher } from './artifact-fetcher';
import { formatToLoad } from './model-format';
import { asOneModel } from './model-instances';
import { RuntimeWorkers } from './runtime-workers';

/** A revision this replica holds in its runtime's worker, ready to infer. */
export interface LoadedRevision {
  readonly revisionId: string;
  readonly model: LoadedModel;
  readonly signature: ModelSignature;
  /** The format it was loaded as (OIP's `platform`): its version's, else its file's (see formatToLoad). */
  readonly format: string;
}

/** The batching a runtime applies to an endpoint's models: 0 or 1 rows turns it off. */
export function batchingOf(endpoint: Pick<EndpointEntity, 'maxBatchSize' | 'maxQueueDelayUs'>): DynamicBatching {
  return endpoint.maxBatchSize > 1 ? { maxBatchSize: endpoint.maxBatchSize, maxQueueDelayMs: endpoint.maxQueueDelayUs / 1000 } : { maxBatchSize: 1, maxQueueDelayMs: 0 };
}

/** A failure worth another try (the registry briefly away) rather than a FAILED revision. */
function transient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}

/**
 * Loads the revisions this replica serves into their runtime instances (in worker threads) and
 * unloads those it no longer serves. A revision runs here as `replicas` model instances, each in a
 * worker of its own, with its calls spread over them (ModelInstances); its `resources` are for
 * schedulers placing serving processes and are not enforced inside one. Every replica loads what it
 * serves: a revision is loaded here when it is deployed through this replica, when a request needs
 * it, and at start and every `reconcileIntervalMs` for the revisions the endpoints' splits name
 * (deployed through another replica). The first replica to load a PENDING revision, or to fail to,
 * moves it to READY or to FAILED with the reason, and publishes
 * trellis.serving.v1.revision.state_changed in the same transaction (so that the other replicas see
 * it at once); a failure that may pass (the registry unavailable) or that is not the revision's
 * (its runtime instance cannot start) leaves it PENDING.
 */
@Injectable()
export class RevisionLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loaded = new Map<string, Promise<LoadedRevision>>();
  private readonly ready = new Map<string, LoadedRevision>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private readonly reconcileListeners: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly repository: EndpointRepository,
    private readonly fetcher: ArtifactFetcher,
    private readonly workers: RuntimeWorkers,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.reconciling;
    await this.unload([...this.loaded.keys()], false);
  }

  /** The revision as this replica holds it, if loaded. */
  held(revisionId: string): LoadedRevision | undefined {
    return this.ready.get(revisionId);
  }

  /** The revision loaded, loading it first if this replica does not hold it; rejects with why it cannot load. */
  ensure(endpoint: EndpointEntity, revision: RevisionEntity): Promise<LoadedRevision> {
    let loading = this.loaded.get(revision.id);
    if (!loading) {
      loading = this.load(endpoint, revision);
      this.loaded.set(revision.id, loading);
      loading.then(
        (held) => this.ready.set(revision.id, held),
        () => this.loaded.get(revision.id) === loading && this.loaded.delete(revision.id),
      );
    }
    return loading;
  }

  /** Loads the revision in the background (after a deploy); its state says how it went. */
  start(endpoint: EndpointEntity, revision: RevisionEntity): void {
    this.ensure(endpoint, revision).catch(() => undefined);
  }

  /** Unloads the revisions and drops their cached files. */
  async unload(revisionIds: readonly string[], removeFiles = true): Promise<void> {
    await Promise.all(
      revisionIds.map(async (id) => {
        const loading = this.loaded.get(id);
        this.loaded.delete(id);
        this.ready.delete(id);
        const held = await loading?.catch(() => undefined);
        await held?.model.unload().catch((error: unknown) => this.logger.warn({ err: error, revision: id }, 'unloading a revision failed'));
        if (removeFiles) await this.fetcher.remove(id).catch(() => undefined);
      }),
    );
  }

  /** Calls `listener` at the start of every reconcile pass (what a change made elsewhere waits for at most). */
  onReconcile(listener: () => void): void {
    this.reconcileListeners.push(listener);
  }

  /** Loads what the endpoints' splits name and this replica lacks; unloads what no split names any more. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closed) return;
    for (const listener of this.reconcileListeners) listener();
    // Only what this replica held before reading the endpoints may be unloaded by this pass: a revision
    // deployed meanwhile (start()) is missing from what it reads, and is not this pass's to judge.
    const heldBefore = new Set(this.loaded.keys());
    try {
      const endpoints = await this.repository.allEndpoints();
      const named = new Set(endpoints.flatMap((endpoint) => [...revisionsOf(endpoint.traffic), ...revisionsOf(endpoint.previousTraffic)]));
      const revisions = await this.repository.revisions([...named]);
      const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
      const serving = revisions.filter((revision) => revision.state !== 'FAILED' && byId.has(revision.endpointId));
      await Promise.all(serving.map((revision) => this.ensure(byId.get(revision.endpointId)!, revision).catch(() => undefined)));
      const kept = new Set(serving.map((revision) => revision.id));
      await this.unload([...heldBefore].filter((id) => this.loaded.has(id) && !kept.has(id)));
    } catch (error) {
      if (!this.closed) this.logger.warn({ err: error }, 'reconciling the revisions this replica serves failed; it tries again');
    }
  }

  private async load(endpoint: EndpointEntity, revision: RevisionEntity): Promise<LoadedRevision> {
    let runtimes: WorkerModelRuntime[];
    try {
      runtimes = await Promise.all(Array.from({ length: revision.replicas }, (_, slot) => this.workers.of(revision.runtime, slot)));
    } catch (error) {
      // The instance, not the revision, is at fault: the revision stays PENDING and is tried again.
      const reason = `runtime instance ${revision.runtime} cannot start in a worker thread: ${(error as Error).message}`;
      this.logger.warn({ err: error, revision: revision.id, runtime: revision.runtime }, reason);
      throw Object.assign(new Error(reason, { cause: error }), { transient: true });
    }
    let stage = 'fetching its files from the registry';
    try {
      const path = await this.fetcher.fetch({ revision, projectId: endpoint.projectId });
      stage = `reading the format of model ${revision.modelName} version ${revision.modelVersion}`;
      const format = formatToLoad(revision, path, runtimes[0].formats);
      stage = `loading ${format} model ${revision.modelName} version ${revision.modelVersion} into runtime instance ${revision.runtime}`;
      const model = asOneModel(await this.loadInstances(runtimes, path, format, { batching: batchingOf(endpoint) }));
      const held = { revisionId: revision.id, model, signature: model.describe(), format };
      if (await this.settle(endpoint, revision, 'READY', '')) this.logger.info({ revision: revision.id, endpoint: endpoint.name, replicas: revision.replicas }, 'revision ready');
      return held;
    } catch (error) {
      const reason = `${stage} failed: ${excerpt((error as Error).message ?? String(error), 900)}`;
      if (transient(error)) {
        this.logger.warn({ err: error, revision: revision.id }, `revision not loaded yet: ${reason}`);
      } else if (await this.settle(endpoint, revision, 'FAILED', reason).catch(() => false)) {
        this.logger.warn({ revision: revision.id, endpoint: endpoint.name, reason }, 'revision failed to load');
      }
      throw Object.assign(new Error(reason, { cause: error }), { transient: transient(error) });
    }
  }

  /** One model instance in each runtime worker (each batching its own calls); where one fails to load, those loaded are unloaded. */
  private async loadInstances(runtimes: readonly WorkerModelRuntime[], path: string, format: string, options: LoadOptions): Promise<LoadedModel[]> {
    const results = await Promise.allSettled(runtimes.map((runtime) => runtime.load(path, format, options)));
    const failed = results.find((result) => result.status === 'rejected');
    if (!failed) return results.map((result) => (result as PromiseFulfilledResult<LoadedModel>).value);
    const loaded = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    await Promise.all(loaded.map((model) => model.unload().catch(() => undefined)));
    throw failed.reason;
  }

  /** Moves a PENDING revision to `state` with its event, in one transaction; false when it was settled already (by this replica or another). */
  private settle(endpoint: EndpointEntity, revision: RevisionEntity, state: 'READY' | 'FAILED', message: string): Promise<boolean> {
    return this.repository.transaction(async (tx) => {
      if (!(await this.repository.settleRevision(tx, revision.id, state, message))) return false;
      await this.outbox.publish(tx, servingEvents, {
        subject: 'trellis.serving.v1.revision.state_changed',
        message: create(RevisionStateChangedEventSchema, {
          endpointId: endpoint.id,
          endpointName: endpoint.name,
          revisionId: revision.id,
          revisionNumber: revision.number,
          state: RevisionState[state],
          stateMessage: message,
          projectId: endpoint.projectId,
        }),
        projectId: endpoint.projectId,
      });
      return true;
    });
  }
}
