import { Inject, Injectable } from '@nestjs/common';
import { type Caller, DomainError, excerpt, FailedPreconditionError, InvalidArgumentError, LOGGER, type Logger, Metrics, NotFoundError, UnauthenticatedError, UnavailableError } from '@trellis/platform';
import type { Tensor } from '@trellis/plugin-sdk';
import { Counter } from 'prom-client';
import type { EndpointEntity, RevisionEntity } from '../endpoints/endpoint.entity';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import type { StoredTarget } from '../endpoints/traffic';
import { PROJECT_HEADER, type InferenceTarget, type InferenceTargets, type InferOptions, type TargetRequest } from '../inference/inference-targets';
import { ModelRunError } from '../inference/model-run.error';
import { EndpointDirectory } from './endpoint-directory';
import { RevisionLoader, type LoadedRevision } from './revision-loader';
import { TrafficPicker } from './traffic-picker';

const SHADOW_METRIC = 'trellis_serving_shadow_requests_total';

/**
 * What resolving a model name works out once per endpoint, as the directory holds it: the
 * versions its split serves, the targets that can answer each version asked for, and the
 * InferenceTarget of each revision it loaded. Kept by endpoint entity: a change to the endpoint or
 * its revisions makes the directory read new entities, and these go with the old ones.
 */
interface EndpointRoutes {
  readonly versions: readonly string[];
  readonly answering: Map<string | undefined, readonly StoredTarget[]>;
  readonly targets: Map<string, { held: LoadedRevision; target: InferenceTarget }>;
}

/**
 * The control plane's `InferenceTargets`: a model name is an endpoint's name (in a project the
 * caller may read; the `trellis-project` header names which when several have one), a version is a registry version one of its split's revisions serves, and the
 * `trellis-revision` header pins a revision by id or number. Without a pin the traffic split picks
 * among its revisions that can answer (a FAILED one never does). The shadow revision, when there
 * is one, gets a copy of each request whose answer is counted and never returned. Endpoints and
 * their splits' revisions come from an {@link EndpointDirectory}, not from the database per request;
 * the caller's right to read the endpoint is still checked on every request.
 */
@Injectable()
export class EndpointRouter implements InferenceTargets {
  private readonly picker = new TrafficPicker();
  private readonly routes = new WeakMap<EndpointEntity, EndpointRoutes>();
  private readonly shadowAnswers: Counter<'endpoint' | 'revision' | 'outcome'>;

  constructor(
    private readonly repository: EndpointRepository,
    private readonly loader: RevisionLoader,
    private readonly directory: EndpointDirectory,
    metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    loader.onReconcile(() => this.directory.forget());
    this.shadowAnswers =
      (metrics.registry.getSingleMetric(SHADOW_METRIC) as Counter<'endpoint' | 'revision' | 'outcome'> | undefined) ??
      new Counter({
        name: SHADOW_METRIC,
        help: "Copies of requests answered by endpoints' shadow revisions, whose answers are never returned, by outcome (ok, error).",
        labelNames: ['endpoint', 'revision', 'outcome'] as const,
        registers: [metrics.registry],
      });
  }

  isReady(): boolean {
    return true;
  }

  async resolve(request: TargetRequest): Promise<InferenceTarget> {
    if (!request.caller) throw new UnauthenticatedError('inference needs credentials: send `authorization: Bearer <token>`');
    void request.caller.authenticated;
    const named = await this.directory.named(request.model);
    const endpoint = this.readableEndpoint(request.model, named.endpoints, request.caller, request.project);
    const routes = this.routesOf(endpoint, named.revisions);
    const revision = request.revision !== undefined ? await this.pinned(endpoint, named.revisions, request.revision) : this.picked(endpoint, routes, named.revisions, request.version);
    if (request.version !== undefined && String(revision.modelVersion) !== request.version) {
      throw new NotFoundError(`revision ${revision.number} of model ${JSON.stringify(endpoint.name)} serves version ${revision.modelVersion}, not ${excerpt(request.version, 64)}`);
    }
    if (revision.state === 'FAILED') {
      throw new FailedPreconditionError(`revision ${revision.number} (${revision.id}) of endpoint ${endpoint.name} failed to load: ${excerpt(revision.stateMessage)}`, { reason: 'REVISION_FAILED' });
    }
    let held = this.loader.held(revision.id);
    if (!held) {
      try {
        held = await this.loader.ensure(endpoint, revision);
      } catch (error) {
        throw new UnavailableError(`revision ${revision.number} of endpoint ${endpoint.name} cannot answer: ${(error as Error).message}`);
      }
    }
    let known = routes.targets.get(revision.id);
    if (known?.held !== held) {
      known = { held, target: this.targetOf(endpoint, revision, held, routes.versions, named.revisions.get(endpoint.traffic.shadowRevisionId)) };
      routes.targets.set(revision.id, known);
    }
    return known.target;
  }

  /**
   * The endpoint of that name the caller may read, in `project` when the caller names one: NOT_FOUND
   * for none, INVALID_ARGUMENT when several projects have one and the caller named none.
   */
  private readableEndpoint(name: string, endpoints: readonly EndpointEntity[], caller: Caller, project: string | undefined): EndpointEntity {
    const readable = endpoints.filter((endpoint) => (project === undefined || endpoint.projectId === project) && caller.can('read', ENDPOINT_KIND, { projectId: endpoint.projectId, id: endpoint.id }));
    if (readable.length === 0) {
      const where = project === undefined ? 'in a project you may read' : `in project ${JSON.stringify(excerpt(project, 64))}, or you may not read it`;
      throw new NotFoundError(`model ${JSON.stringify(excerpt(name, 64))} not found: no endpoint of that name ${where}`, { reason: 'ENDPOINT_NOT_FOUND' });
    }
    if (readable.length > 1) {
      throw new InvalidArgumentError(
        `projects ${readable.map((endpoint) => endpoint.projectId).join(', ')} each have an endpoint named ${JSON.stringify(name)}; name one with the ${PROJECT_HEADER} header (gRPC metadata or HTTP header), or use a token scoped to one of them`,
      );
    }
    return readable[0];
  }

  /** What resolve worked out for the endpoint as the directory holds it now (a change makes a new entity). */
  private routesOf(endpoint: EndpointEntity, byId: ReadonlyMap<string, RevisionEntity>): EndpointRoutes {
    let routes = this.routes.get(endpoint);
    if (!routes) {
      const versions = endpoint.traffic.targets.map((target) => String(byId.get(target.revisionId)?.modelVersion ?? '')).filter(Boolean);
      routes = { versions: [...new Set(versions)], answering: new Map(), targets: new Map() };
      this.routes.set(endpoint, routes);
    }
    return routes;
  }

  /**
   * The endpoint's revision the header names, by id or number; it need not take traffic. One the
   * split names (a canary, the shadow) comes from the directory; only another is read from the database.
   */
  private async pinned(endpoint: EndpointEntity, held: ReadonlyMap<string, RevisionEntity>, key: string): Promise<RevisionEntity> {
    const inSplit = held.get(key) ?? [...held.values()].find((revision) => String(revision.number) === key && revision.endpointId === endpoint.id);
    if (inSplit?.endpointId === endpoint.id) return inSplit;
    const revision = key.length <= 64 ? await this.repository.findRevision(endpoint.id, key) : null;
    if (!revision) throw new NotFoundError(`endpoint ${endpoint.name} has no revision ${JSON.stringify(excerpt(key, 64))} (trellis-revision names one by id or number)`, { reason: 'REVISION_NOT_FOUND' });
    return revision;
  }

  /** The revision the split picks among those of the version asked for that have not failed. */
  private picked(endpoint: EndpointEntity, routes: EndpointRoutes, byId: ReadonlyMap<string, RevisionEntity>, version: string | undefined): RevisionEntity {
    let answering = routes.answering.get(version);
    if (!answering) {
      const ofVersion = endpoint.traffic.targets.filter((target) => version === undefined || String(byId.get(target.revisionId)?.modelVersion) === version);
      if (ofVersion.length === 0) throw new NotFoundError(`model ${JSON.stringify(endpoint.name)} has no version ${JSON.stringify(excerpt(version ?? '', 64))} in its traffic split`);
      answering = ofVersion.filter((target) => byId.get(target.revisionId)?.state !== 'FAILED');
      if (answering.length === 0) {
        const failed = byId.get(ofVersion[0].revisionId)!;
        throw new FailedPreconditionError(`every revision of endpoint ${endpoint.name}'s split failed to load; revision ${failed.number}: ${excerpt(failed.stateMessage)}`, { reason: 'REVISION_FAILED' });
      }
      // Only versions the split serves are kept: a caller naming ever more versions does not grow it.
      routes.answering.set(version, answering);
    }
    return byId.get(this.picker.pick(endpoint.id, answering).revisionId)!;
  }

  /** The target of a loaded revision, made once per revision as the directory holds its endpoint. */
  private targetOf(endpoint: EndpointEntity, revision: RevisionEntity, held: LoadedRevision, versions: readonly string[], shadow: RevisionEntity | undefined): InferenceTarget {
    const { model } = held;
    return {
      name: endpoint.name,
      version: String(revision.modelVersion),
      versions,
      platform: held.format,
      revision: revision.id,
      endpoint: { id: endpoint.id, projectId: endpoint.projectId },
      ...(model.stats && { stats: model.stats.bind(model) }),
      signature: held.signature,
      isReady: () => this.loader.held(revision.id) !== undefined,
      infer: (inputs, options) => {
        if (shadow && shadow.state !== 'FAILED') this.copyToShadow(endpoint, shadow, inputs, options);
        return model.infer(inputs, { signal: options.signal }).catch((error: unknown) => {
          throw options.signal?.aborted ? error : this.runFailure(endpoint, revision, options.requestId, error);
        });
      },
    };
  }

  /**
   * What a revision's failed run answers: a DomainError as it is; the runtime's own error as a
   * ModelRunError naming the revision, logged here once with its stack and the request id (a run
   * aborted because its caller went away is neither: nobody reads its answer).
   */
  private runFailure(endpoint: EndpointEntity, revision: RevisionEntity, requestId: string, error: unknown): unknown {
    if (error instanceof DomainError) return error;
    this.logger.error({ err: error, endpoint: endpoint.name, revision: revision.id, requestId }, 'a revision failed on a request');
    const reason = excerpt(error instanceof Error ? error.message : String(error));
    return new ModelRunError(`revision ${revision.number} (${revision.id}) of model ${endpoint.name} failed on this request: ${reason}`, requestId, revision.id);
  }

  /** Sends the shadow a copy of the request, never waited for: its answer is counted and dropped. */
  private copyToShadow(endpoint: EndpointEntity, shadow: RevisionEntity, inputs: readonly Tensor[], options: InferOptions): void {
    const count = (outcome: 'ok' | 'error') => this.shadowAnswers.inc({ endpoint: endpoint.name, revision: shadow.id, outcome });
    this.loader
      .ensure(endpoint, shadow)
      .then((held) => held.model.infer(inputs))
      .then(
        (outputs) => {
          count('ok');
          this.logger.debug({ endpoint: endpoint.name, revision: shadow.id, requestId: options.requestId, outputs: outputs.map((tensor) => ({ name: tensor.name, shape: tensor.shape })) }, 'shadow answered');
        },
        (error: unknown) => {
          count('error');
          this.logger.debug({ endpoint: endpoint.name, revision: shadow.id, requestId: options.requestId, err: error }, 'shadow failed');
        },
      );
  }
}
