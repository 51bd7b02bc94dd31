import { Inject, Injectable } from '@nestjs/common';
import { excerpt, LOGGER, type Logger, Outbox, pause, SERVICE_CONFIG, type Worker } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { admit, type AdmissionDecisions, type AdmissionSnapshot, type PendingWorkload } from '../admission';
import { ClusterService } from '../clusters/cluster.service';
import type { ComputeConfig } from '../compute.config';
import { publishJobEvent } from '../jobs/job-events';
import { HOLDING_STATES, LIVE_ATTEMPT_STATES, outOfAttempts, type JobEntity } from '../jobs/job.entity';
import { JobRepository } from '../jobs/job.repository';
import { clustersOf, type QueueEntity } from '../queues/queue.entity';
import { QueueRepository } from '../queues/queue.repository';
import { AdmissionSignal, DispatchSignal } from './admission-signal';
import { AttemptLedger } from './attempt-ledger';
import { backendSpec } from './backend-spec';
import { PendingJobs } from './pending-jobs';

/** The actor of the loop's events. */
const ACTOR = 'compute-admission';

/** The least time from one pass's start to the next: what a wake-up may wait for its pass while others keep coming. */
const MIN_PASS_SPACING_MS = 200;

/** Longest text of one backend's answer to `whyCannotRun` in a waiting reason. */
const CANNOT_RUN_EXCERPT = 300;

/**
 * The admission loop (one replica decides): on each wake-up (a submission, a finished job, a grant
 * or queue change) and at least every `admissionIntervalMs`, it reads a snapshot of queues (with
 * their clusters, and whether each answers), grants and jobs holding quota (with the cluster each
 * was placed on), brings its queued jobs up to date ({@link PendingJobs}: the jobs named by the
 * wake-ups, all of them every `admissionIntervalMs`), works out which of its queue's clusters can
 * run each of them (`whyCannotRun`), asks `admit()`, and applies its decisions in one transaction:
 * admitted jobs reserve their quota (state ADMITTED) and get their attempt on the cluster admission
 * placed them on, preempted ones give it back (QUEUED again, their attempt asked to stop), and
 * every job that still waits gets the reason why.
 */
@Injectable()
export class AdmissionWorker implements Worker {
  private readonly pendingJobs: PendingJobs;
  /** Why each queued job's backends cannot run it, by job id then cluster (undefined: it can); a spec never changes. */
  private cannotRun = new Map<string, Map<string, string | undefined>>();

  constructor(
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly clusters: ClusterService,
    private readonly ledger: AttemptLedger,
    private readonly outbox: Outbox,
    private readonly wakeup: AdmissionSignal,
    private readonly dispatch: DispatchSignal,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.pendingJobs = new PendingJobs(jobs, config.admissionIntervalMs);
  }

  async run(signal: AbortSignal): Promise<void> {
    // What another leader did while this replica was not deciding is seen by a full read.
    this.pendingJobs.drop();
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.pass();
      } catch (error) {
        this.pendingJobs.drop();
        this.logger.warn({ error: String(error) }, 'admission pass failed; the loop tries again at its next wake-up');
      }
      // A pass over many queued jobs takes the process's one thread: leave it as long to the calls
      // (a stream of submissions wakes the loop all the time), so passes take at most half of it,
      // and start at most every MIN_PASS_SPACING_MS, so a burst's wake-ups share passes.
      const took = Date.now() - started;
      await pause(Math.max(took, MIN_PASS_SPACING_MS - took), signal);
      await this.wakeup.wait(this.config.admissionIntervalMs, signal);
    }
  }

  /** One pass: refresh the queued jobs, decide, apply. Returns the decisions. */
  async pass(now = Date.now()): Promise<AdmissionDecisions> {
    const readInFull = await this.pendingJobs.refresh(this.wakeup.takeChangedJobs());
    let decided = await this.decide(this.pendingJobs.due(now));
    // Admissions and preemptions are decided over a full read, so that a change no one named (another replica's cancel) cannot cause one.
    if (!readInFull && decided && changesState(decided.decisions)) {
      await this.pendingJobs.readAll();
      decided = await this.decide(this.pendingJobs.due(now));
    }
    if (!decided) return { admit: [], preempt: [], waiting: [] };
    const { decisions, waiting, pending } = decided;
    const admitted = await this.apply({ ...decisions, waiting }, pending, now);
    for (const { workloadId, reason } of waiting) {
      const job = pending.get(workloadId);
      if (job) job.reason = reason;
    }
    this.pendingJobs.remove(admitted);
    // A job whose earlier attempt still runs (preempted, not yet stopped) waits for it to end.
    this.pendingJobs.markChanged(decisions.admit.map((admission) => admission.workloadId).filter((id) => !admitted.includes(id)));
    this.pendingJobs.markChanged(decisions.preempt.map((preemption) => preemption.workloadId));
    if (changesState(decisions)) this.dispatch.wake();
    return decisions;
  }

  /**
   * What `admit()` decides over the snapshot with these queued jobs, and why each job without a
   * grant, or that no cluster of its queue can run, waits; undefined when none is queued.
   */
  private async decide(due: readonly JobEntity[]) {
    if (due.length === 0) return undefined;
    const { snapshot, queues } = await this.snapshot(due);
    const granted = new Set(snapshot.grants.map((grant) => `${grant.queueId}\0${grant.projectId}`));
    const [withGrant, withoutGrant] = partition(due, (job) => granted.has(`${job.queue}\0${job.projectId}`));
    const eligible = await this.eligibleClusters(withGrant, queues);
    const runnable: PendingWorkload[] = [];
    const unrunnable: Array<{ workloadId: string; reason: string }> = [];
    for (const job of withGrant) {
      const { clusterIds, reasons } = eligible.get(job.id) ?? { clusterIds: undefined, reasons: [] };
      if (clusterIds?.length === 0) unrunnable.push({ workloadId: job.id, reason: `waiting: no cluster of queue ${job.queue} can run the job: ${reasons.join('; ')}` });
      else runnable.push({ ...pendingWorkload(job), ...(clusterIds ? { clusterIds } : {}) });
    }
    const decisions = admit({ ...snapshot, pending: runnable });
    const waiting = [
      ...decisions.waiting,
      ...unrunnable,
      ...withoutGrant.map((job) => ({ workloadId: job.id, reason: `waiting: project ${job.projectId} has no grant on queue ${job.queue}; an org admin gives one with SetGrant` })),
    ];
    return { decisions, waiting, pending: new Map(due.map((job) => [job.id, job])) };
  }

  private async snapshot(pending: readonly JobEntity[]): Promise<{ snapshot: Omit<AdmissionSnapshot, 'pending'>; queues: ReadonlyMap<string, QueueEntity> }> {
    const [queues, grants, holding, live] = await Promise.all([this.queues.all(), this.queues.allGrants(), this.jobs.holding(), this.jobs.liveAttempts()]);
    const byName = new Map(queues.map((queue) => [queue.name, queue]));
    const wanted = new Set(pending.map((job) => job.queue));
    const relevant = queues.filter((queue) => wanted.has(queue.name) || queue.cohort !== '');
    // A job holding quota is where its live attempt is (admission opens it with the job); an older one is on its queue's first cluster.
    const placedOn = new Map(live.map((attempt) => [attempt.jobId, attempt.cluster]));
    const admitted = holding.map((job) => ({
      id: job.id,
      queueId: job.queue,
      projectId: job.projectId,
      priority: job.priority,
      replicas: job.replicas,
      request: job.admittedRequest ?? {},
      admittedAt: job.admittedAt ?? 0,
      clusterId: placedOn.get(job.id) ?? clustersOf(byName.get(job.queue) ?? { cluster: '', clusters: [] })[0].name,
    }));
    const clusterNames = [...new Set([...relevant.flatMap((queue) => clustersOf(queue).map((cluster) => cluster.name)), ...admitted.map((job) => job.clusterId)])].filter((name) => name !== '');
    return {
      queues: byName,
      snapshot: {
        clusters: await Promise.all(clusterNames.map((name) => this.clusters.forAdmission(name))),
        queues: relevant.map((queue) => ({
          id: queue.name,
          name: queue.name,
          clusters: clustersOf(queue).map((cluster) => ({ clusterId: cluster.name, costWeight: cluster.costWeight > 0 ? cluster.costWeight : 1 })),
          placement: queue.placement,
          cohort: queue.cohort || undefined,
          preemption: { reclaimWithinCohort: queue.reclaimWithinCohort, withinQueue: queue.withinQueue },
        })),
        grants: grants.map((grant) => ({ queueId: grant.queue, projectId: grant.projectId, quotas: grant.quotas })),
        admitted,
      },
    };
  }

  /**
   * Which of its queue's clusters can run each job, by the backends' `whyCannotRun` over its spec
   * (asked once per job and cluster: a spec never changes), with the reasons of those that cannot;
   * `clusterIds` undefined when all of them can. A cluster whose instance is gone counts as able:
   * admission sees it is not answering.
   */
  private async eligibleClusters(jobs: readonly JobEntity[], queues: ReadonlyMap<string, QueueEntity>) {
    const known = this.cannotRun;
    this.cannotRun = new Map();
    const names = new Set(this.clusters.names());
    const asking = jobs.filter((job) => {
      const queue = queues.get(job.queue);
      const answers = known.get(job.id);
      return queue !== undefined && clustersOf(queue).some((cluster) => names.has(cluster.name) && !answers?.has(cluster.name));
    });
    const specs = await this.jobs.withSpecs(asking.map((job) => job.id));
    const eligible = new Map<string, { clusterIds: string[] | undefined; reasons: string[] }>();
    for (const job of jobs) {
      const queue = queues.get(job.queue);
      if (!queue) continue;
      const answers = known.get(job.id) ?? new Map<string, string | undefined>();
      this.cannotRun.set(job.id, answers);
      const full = specs.get(job.id);
      const clusterIds: string[] = [];
      const reasons: string[] = [];
      for (const { name } of clustersOf(queue)) {
        if (names.has(name) && !answers.has(name) && full) {
          const backend = await this.clusters.backend(name);
          answers.set(name, backend.whyCannotRun?.(backendSpec(full, { number: 1 })));
        }
        const why = answers.get(name);
        if (why === undefined) clusterIds.push(name);
        else reasons.push(`${name}: ${excerpt(why, CANNOT_RUN_EXCERPT)}`);
      }
      eligible.set(job.id, { clusterIds: reasons.length === 0 ? undefined : clusterIds, reasons });
    }
    return eligible;
  }

  /** Applies the decisions in one transaction; returns the ids of the jobs it admitted (not one whose earlier attempt still runs). */
  private async apply(decisions: AdmissionDecisions, pending: ReadonlyMap<string, JobEntity>, now: number): Promise<string[]> {
    return this.jobs.transaction(async (tx) => {
      const admitted: string[] = [];
      for (const preemption of decisions.preempt) await this.preempt(tx, preemption.workloadId, preemption.reason, now);
      for (const admission of decisions.admit) {
        const job = await this.jobs.lock(tx, admission.workloadId);
        if (job?.state !== 'QUEUED') continue;
        const attempt = await this.ledger.openIn(tx, job.id, admission.clusterId, admission.placement);
        if (!attempt) continue;
        const changes = { state: 'ADMITTED' as const, reason: admission.borrowing ? 'admitted, borrowing idle quota of the cohort' : 'admitted', admittedAt: now, admittedRequest: admission.request, borrowing: admission.borrowing, updatedAt: now };
        await this.jobs.update(tx, job.id, changes);
        await publishJobEvent(this.outbox, tx, { ...job, ...changes }, 'ADMITTED', { actor: ACTOR });
        admitted.push(job.id);
      }
      const changed = new Map<string, string[]>();
      for (const waiting of decisions.waiting) {
        if (pending.get(waiting.workloadId)?.reason === waiting.reason) continue;
        const ids = changed.get(waiting.reason);
        if (ids) ids.push(waiting.workloadId);
        else changed.set(waiting.reason, [waiting.workloadId]);
      }
      for (const [reason, ids] of changed) await this.jobs.setWaitingReason(tx, ids, reason);
      return admitted;
    });
  }

  /** Gives the job's quota back and queues it again (fails it, saying so, after its last attempt: MAX_ATTEMPTS); its live attempt is asked to stop. */
  private async preempt(tx: EntityManager, jobId: string, reason: string, now: number): Promise<void> {
    const job = await this.jobs.lock(tx, jobId);
    if (!job || !HOLDING_STATES.includes(job.state)) return;
    const attempt = await this.jobs.latestAttempt(tx, jobId);
    const last = attempt ? outOfAttempts(attempt.number, reason) : undefined;
    const release = { admittedAt: null, admittedRequest: null, borrowing: false, updatedAt: now };
    const changes = last ? { ...release, state: 'FAILED' as const, reason: last } : { ...release, state: 'QUEUED' as const, reason, notBefore: 0 };
    await this.jobs.update(tx, jobId, changes);
    if (attempt && LIVE_ATTEMPT_STATES.includes(attempt.state)) await this.jobs.updateAttempt(tx, attempt, { stop: 'preempt', reason });
    await publishJobEvent(this.outbox, tx, { ...job, ...changes }, changes.state, { actor: ACTOR, attempt: attempt?.number });
  }
}

function pendingWorkload(job: JobEntity) {
  return {
    id: job.id,
    queueId: job.queue,
    projectId: job.projectId,
    priority: job.priority,
    replicas: job.replicas,
    request: job.request,
    createdAt: job.createdAt,
    ...(job.anyGpus > 0 ? { anyGpu: { count: job.anyGpus } } : {}),
  };
}

const changesState = (decisions: AdmissionDecisions): boolean => decisions.admit.length > 0 || decisions.preempt.length > 0;

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
