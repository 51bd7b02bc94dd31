import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  AuditRecorder,
  type Caller,
  checkRequired,
  DomainError,
  excerpt,
  FailedPreconditionError,
  LOGGER,
  type Logger,
  NotFoundError,
  Outbox,
  ServiceIdentity,
  UnavailableError,
} from '@trellis/platform';
import { RolloutEventSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { RevisionEntity } from '../endpoints/endpoint.entity';
import type { EndpointView } from '../endpoints/endpoint.mapping';
import { EndpointService, ENDPOINT_KIND } from '../endpoints/endpoint.service';
import type { StoredSplit } from '../endpoints/traffic';
import { servingEvents } from '../serving.events';
import { CanaryReports } from './canary-reports';
import { driftFinding, judge, type DriftWindow } from './rollout-guards';
import { rolloutCaller } from './rollout-caller';
import { policyOf, type PolicyInput } from './rollout-policy';
import { RolloutEntity, RolloutPolicyEntity, type RolloutStageName } from './rollout.entity';
import { rolloutToProto } from './rollout.mapping';
import { RolloutRepository } from './rollout.repository';
import { RolloutSignal } from './rollout.signal';

/** An alias move, as the registry's `alias.set` event tells it. */
export interface AliasMove {
  projectId: string;
  modelName: string;
  alias: string;
  toVersion: number;
  /** When the alias moved, in milliseconds since the epoch: with the version, what tells two moves apart. */
  changedAt: number;
  /** Who moved it. */
  actorId: string;
  requestId: string;
}

/** The subjects a rollout's decisions are published on. */
type RolloutSubject = 'trellis.serving.v1.rollout.started' | 'trellis.serving.v1.rollout.promoted' | 'trellis.serving.v1.rollout.rolled_back';

/**
 * Progressive rollout: endpoints that follow a registry alias get each new version it points at
 * as a canary, which is promoted to all of the traffic after its bake time within its guards, or
 * rolled back as soon as it crosses one. Alias moves are recorded by `recordAliasMove` (the event
 * handler); `advance` (the worker, on one replica) deploys, judges and decides.
 */
@Injectable()
export class RolloutService {
  constructor(
    private readonly repository: RolloutRepository,
    private readonly endpoints: EndpointService,
    private readonly reports: CanaryReports,
    private readonly identity: ServiceIdentity,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly signal: RolloutSignal,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Sets the endpoint's policy, or removes it when `input` is undefined; later alias moves follow it. */
  async setPolicy(caller: Caller, endpointId: string, input: PolicyInput | undefined): Promise<RolloutPolicyEntity | undefined> {
    const { endpoint } = await this.editable(caller, endpointId);
    const policy = input && policyOf(caller, endpoint, input, 'policy');
    await this.repository.transaction(async (tx) => {
      if (policy) await this.repository.savePolicy(tx, policy);
      else await this.repository.deletePolicy(tx, endpoint.id);
      await this.audit.recordIn(tx, caller);
    });
    return policy;
  }

  /** The endpoint's policy and its latest rollouts, newest first. */
  async list(caller: Caller, endpointId: string): Promise<{ policy: RolloutPolicyEntity | null; rollouts: RolloutEntity[] }> {
    const { endpoint } = await this.endpoints.get(caller, endpointId);
    return { policy: await this.repository.policy(endpoint.id), rollouts: await this.repository.recent(endpoint.id) };
  }

  /** Ends the endpoint's rollout in progress without a decision, its canary's traffic given back to the split before it. */
  async abort(caller: Caller, endpointId: string): Promise<RolloutEntity> {
    const { endpoint } = await this.editable(caller, endpointId);
    const live = await this.repository.transaction((tx) => this.repository.live(tx, endpoint.id));
    const rollout = live.at(-1);
    if (!rollout) throw new FailedPreconditionError(`endpoint ${endpoint.name} has no rollout pending or baking`, { reason: 'NO_ROLLOUT_IN_PROGRESS' });
    const name = caller.authenticated.id;
    for (const older of live.slice(0, -1)) await this.end(older, 'ABORTED', `superseded and aborted by ${name}`, caller);
    return this.end(rollout, 'ABORTED', `aborted by ${name}`, caller);
  }

  /**
   * Records a PENDING rollout for each endpoint of the project that follows the alias, in the
   * event's transaction; a move it has already recorded (a replay) records nothing.
   */
  async recordAliasMove(tx: EntityManager, move: AliasMove): Promise<number> {
    let recorded = 0;
    const triggerKey = `${move.modelName}@${move.alias}->${move.toVersion}@${move.changedAt}`;
    for (const policy of await this.repository.following(tx, move.projectId, move.modelName, move.alias)) {
      if (await this.repository.byTrigger(tx, policy.endpointId, triggerKey)) continue;
      await this.repository.insert(tx, {
        id: randomUUID(),
        endpointId: policy.endpointId,
        endpointName: policy.endpointName,
        projectId: policy.projectId,
        triggerKey,
        stage: 'PENDING',
        modelName: move.modelName,
        modelVersion: move.toVersion,
        candidateRevisionId: '',
        previousTraffic: null,
        actorId: move.actorId,
        requestId: excerpt(move.requestId, 128),
        createdAt: Date.now(),
        startedAt: 0,
        decidedAt: 0,
        reason: `${move.alias} moved to version ${move.toVersion}`,
        requests: 0,
        errors: 0,
        driftFinding: '',
      });
      recorded += 1;
    }
    if (recorded > 0) this.signal.wakeAfterCommit(tx);
    return recorded;
  }

  /**
   * Notes, in the event's transaction, a drift monitor's window on the canary of the project's
   * endpoint of that name when its policy names the monitor and the window condemns the candidate
   * (`driftFinding`); the worker rolls it back at its next pass, as it does on its other guards. A
   * canary already condemned keeps its first finding.
   */
  async recordDrift(tx: EntityManager, projectId: string, endpointName: string, window: DriftWindow): Promise<number> {
    let noted = 0;
    for (const canary of await this.repository.canariesOf(tx, projectId, endpointName)) {
      const policy = await this.repository.policy(canary.endpointId, tx);
      const finding = policy && driftFinding(policy.driftMonitor, canary, window);
      if (finding && (await this.repository.condemn(tx, canary.id, finding))) noted += 1;
    }
    if (noted > 0) this.signal.wakeAfterCommit(tx);
    return noted;
  }

  /**
   * One pass over the rollouts in progress: on each endpoint the newest is advanced (deployed as a
   * canary, or judged) and older ones are aborted, superseded by a newer alias move.
   */
  async advance(now = Date.now()): Promise<void> {
    const byEndpoint = new Map<string, RolloutEntity[]>();
    for (const rollout of await this.repository.allLive()) byEndpoint.set(rollout.endpointId, [...(byEndpoint.get(rollout.endpointId) ?? []), rollout]);
    for (const live of byEndpoint.values()) {
      const newest = live[live.length - 1];
      try {
        for (const older of live.slice(0, -1)) await this.end(older, 'ABORTED', `superseded: the alias moved to version ${newest.modelVersion}`);
        if (newest.stage === 'PENDING') await this.deploy(newest, now);
        else await this.check(newest, now);
      } catch (error) {
        this.logger.warn({ rollout: newest.id, endpoint: newest.endpointId, error: String(error) }, 'rollout step failed; it is tried again at the next pass');
      }
    }
  }

  /** Deploys the version the alias moved to as a canary with the policy's share of the traffic. */
  private async deploy(rollout: RolloutEntity, now: number): Promise<void> {
    const step = await this.stepOf(rollout, 'DeployCanary');
    if (!step) return;
    const { policy, caller, view } = step;
    const serving = servingRevision(view);
    if (serving && view.endpoint.traffic.targets.length === 1 && serving.modelName === rollout.modelName && serving.modelVersion === rollout.modelVersion) {
      return void (await this.end(rollout, 'ABORTED', `version ${rollout.modelVersion} already answers all requests`));
    }
    const spec = {
      model: `models:/${rollout.modelName}/${rollout.modelVersion}`,
      runtime: serving?.runtime ?? '',
      replicas: serving?.replicas ?? 1,
      resources: serving?.resources ?? { cpuMillicores: 0, memoryBytes: 0, gpus: 0, gpuType: '' },
      trafficPercent: policy.canaryPercent,
      shadow: false,
    };
    try {
      // The canary's share and the rollout's new stage commit together: no canary without its rollout, nor the reverse.
      await this.endpoints.deploy(caller, rollout.endpointId, spec, (tx, deployed) =>
        this.record(tx, rollout, {
          stage: 'CANARY',
          candidateRevisionId: deployed.revision.id,
          previousTraffic: deployed.view.endpoint.previousTraffic ?? view.endpoint.traffic,
          startedAt: now,
          reason: `revision ${deployed.revision.number} (version ${rollout.modelVersion}) is the canary with ${policy.canaryPercent}% of the requests for ${policy.bakeTimeMs} ms`,
        }, 'trellis.serving.v1.rollout.started', caller),
      );
    } catch (error) {
      // The registry or a database that does not answer now may later; a version that cannot be deployed never will.
      if (error instanceof UnavailableError || !(error instanceof DomainError) || error.reason === 'NO_ROLLOUT_IN_PROGRESS') throw error;
      return void (await this.end(rollout, 'FAILED', `could not deploy version ${rollout.modelVersion}: ${error.message}`));
    }
  }

  /** Judges a canary by its guards: rolled back at once when it crosses one, promoted once baked within them. */
  private async check(rollout: RolloutEntity, now: number): Promise<void> {
    const step = await this.stepOf(rollout, 'JudgeCanary');
    if (!step) return;
    const { policy, caller, view } = step;
    const target = view.endpoint.traffic.targets.find((candidate) => candidate.revisionId === rollout.candidateRevisionId);
    if (!target || target.percent === 100) {
      return void (await this.end(rollout, 'ABORTED', "the endpoint's traffic was changed by hand while the canary baked", undefined, false));
    }
    const candidate = view.revisions.find((revision) => revision.id === rollout.candidateRevisionId);
    if (candidate?.state === 'FAILED') return void (await this.end(rollout, 'ROLLED_BACK', `the canary failed to load: ${excerpt(candidate.stateMessage, 1000)}`, caller));
    const window = await this.reports.window(rollout);
    const verdict = judge(policy, window, now - rollout.startedAt >= policy.bakeTimeMs, rollout.driftFinding);
    const seen = { requests: window.requests, errors: window.errors };
    if (verdict.action === 'roll_back') return void (await this.end(rollout, 'ROLLED_BACK', verdict.reason, caller, true, seen));
    if (verdict.action === 'promote') {
      const all = { targets: [{ revisionId: rollout.candidateRevisionId, percent: 100 }], shadowRevisionId: view.endpoint.traffic.shadowRevisionId };
      const promoted = { stage: 'PROMOTED' as const, decidedAt: Date.now(), reason: verdict.reason, ...seen };
      return void (await this.endpoints.setTraffic(caller, rollout.endpointId, all, (tx) => this.record(tx, rollout, promoted, 'trellis.serving.v1.rollout.promoted', caller)));
    }
    if (seen.requests !== rollout.requests || verdict.reason !== rollout.reason) {
      await this.repository.transaction((tx) => this.repository.updateAt(tx, rollout.id, rollout.stage, { ...seen, reason: verdict.reason }));
    }
  }

  /**
   * Ends a rollout with `stage` and `reason`: a canary's traffic goes back to the split it
   * replaced (unless `restore` is false: the traffic is no longer the rollout's to change), in the
   * transaction that records the decision.
   */
  private async end(rollout: RolloutEntity, stage: RolloutStageName, reason: string, caller?: Caller, restore = true, seen?: { requests: number; errors: number }): Promise<RolloutEntity> {
    const acting = caller ?? (await this.callerFor(rollout, 'EndRollout'));
    const subject = stage === 'ROLLED_BACK' ? 'trellis.serving.v1.rollout.rolled_back' : undefined;
    const decision = { stage, decidedAt: Date.now(), reason, ...seen };
    const record = (tx: EntityManager) => this.record(tx, rollout, decision, subject, acting);
    const restored = restore && rollout.stage === 'CANARY' && rollout.previousTraffic && (await this.restore(acting, rollout, rollout.previousTraffic, record));
    if (!restored) await this.repository.transaction(record);
    return { ...rollout, ...decision };
  }

  /**
   * Puts the split before the canary back, with `record` in its transaction; false when the endpoint
   * is gone (no traffic left to give back). One that can no longer be set (a revision of it failed
   * since) is logged and tried again at each pass: the canary keeps its share until someone sets the traffic.
   */
  private async restore(caller: Caller, rollout: RolloutEntity, previous: StoredSplit, record: (tx: EntityManager) => Promise<void>): Promise<boolean> {
    try {
      await this.endpoints.setTraffic(caller, rollout.endpointId, previous, record);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError && error.reason === 'ENDPOINT_NOT_FOUND') return false;
      if (!(error instanceof DomainError) || error instanceof UnavailableError || error.reason === 'NO_ROLLOUT_IN_PROGRESS') throw error;
      this.logger.warn({ rollout: rollout.id, error: error.message }, 'the split before the canary cannot be restored; the canary is left as it is');
      throw new FailedPreconditionError(`the split before the canary cannot be restored: ${error.message}`);
    }
  }

  /**
   * Writes the rollout's new state with its event and audit record in `tx`: FAILED_PRECONDITION
   * (NO_ROLLOUT_IN_PROGRESS) when it left the stage it was read at meanwhile (decided through
   * another call), which rolls back the traffic change made in the same transaction.
   */
  private async record(tx: EntityManager, rollout: RolloutEntity, changes: Partial<RolloutEntity>, subject: RolloutSubject | undefined, caller: Caller): Promise<void> {
    if (!(await this.repository.updateAt(tx, rollout.id, rollout.stage, changes))) {
      throw new FailedPreconditionError(`rollout ${rollout.id} of endpoint ${rollout.endpointName} is no longer ${rollout.stage}: it was decided meanwhile`, { reason: 'NO_ROLLOUT_IN_PROGRESS' });
    }
    if (subject) {
      await this.outbox.publish(tx, servingEvents, {
        subject,
        message: create(RolloutEventSchema, { rollout: rolloutToProto({ ...rollout, ...changes }), projectId: rollout.projectId, endpointName: rollout.endpointName }),
        projectId: rollout.projectId,
        actor: caller.authenticated.id,
        requestId: caller.requestId,
      });
    }
    await this.audit.recordIn(tx, caller, { id: rollout.id, projectId: rollout.projectId, kind: 'Rollout', action: 'update' });
  }

  /** The policy, the acting caller and the endpoint for one step of a rollout; undefined once it is aborted because either is gone. */
  private async stepOf(rollout: RolloutEntity, name: string): Promise<{ policy: RolloutPolicyEntity; caller: Caller; view: EndpointView } | undefined> {
    const policy = await this.repository.policy(rollout.endpointId);
    if (!policy) return void (await this.end(rollout, 'ABORTED', 'the endpoint no longer follows the alias'));
    const caller = await this.callerFor(rollout, name);
    try {
      return { policy, caller, view: await this.endpoints.get(caller, rollout.endpointId) };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return void (await this.end(rollout, 'ABORTED', `the endpoint is gone: ${error.message}`));
    }
  }

  private callerFor(rollout: RolloutEntity, step: string): Promise<Caller> {
    return rolloutCaller(this.identity, rollout.projectId, rollout.actorId, rollout.requestId || `rollout-${rollout.id}`, `trellis.serving.v1.RolloutWorker/${step}`);
  }

  /** The endpoint, if the caller may change it. */
  private async editable(caller: Caller, endpointId: string): Promise<EndpointView> {
    checkRequired(endpointId, 'endpoint_id');
    const view = await this.endpoints.get(caller, endpointId);
    caller.assert('update', ENDPOINT_KIND, { projectId: view.endpoint.projectId, id: view.endpoint.id });
    return view;
  }
}

/** The revision with the largest share of the traffic: what a canary copies its runtime, replicas and resources from. */
function servingRevision(view: EndpointView): RevisionEntity | undefined {
  const top = [...view.endpoint.traffic.targets].sort((a, b) => b.percent - a.percent)[0];
  return view.revisions.find((revision) => revision.id === top?.revisionId);
}
