import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, Outbox, pause, SERVICE_CONFIG, type Worker } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { admit, type AdmissionDecisions, type AdmissionSnapshot } from '../admission';
import { ClusterService } from '../clusters/cluster.service';
import type { ComputeConfig } from '../compute.config';
import { publishJobEvent } from '../jobs/job-events';
import { HOLDING_STATES, LIVE_ATTEMPT_STATES, type JobEntity } from '../jobs/job.entity';
import { JobRepository } from '../jobs/job.repository';
import { QueueRepository } from '../queues/queue.repository';
import { AdmissionSignal, DispatchSignal } from './admission-signal';
import { PendingJobs } from './pending-jobs';

/** The actor of the loop's events. */
const ACTOR = 'compute-admission';

/** The least time from one pass's start to the next: what a wake-up may wait for its pass while others keep coming. */
const MIN_PASS_SPACING_MS = 200;

/**
 * The admission loop (one replica decides): on each wake-up (a submission, a finished job, a grant
 * or queue change) and at least every `admissionIntervalMs`, it reads a snapshot of queues, grants
 * and jobs holding quota, brings its queued jobs up to date ({@link PendingJobs}: the jobs named by
 * the wake-ups, all of them every `admissionIntervalMs`), asks `admit()`, and applies its decisions in one transaction:
 * admitted jobs reserve their quota (state ADMITTED), preempted ones give it back (QUEUED again,
 * their attempt asked to stop), and every job that still waits gets the reason why.
 */
@Injectable()
export class AdmissionWorker implements Worker {
  private readonly pendingJobs: PendingJobs;

  constructor(
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly clusters: ClusterService,
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
    await this.apply({ ...decisions, waiting }, pending, now);
    for (const { workloadId, reason } of waiting) {
      const job = pending.get(workloadId);
      if (job) job.reason = reason;
    }
    this.pendingJobs.remove(decisions.admit.map((admission) => admission.workloadId));
    this.pendingJobs.markChanged(decisions.preempt.map((preemption) => preemption.workloadId));
    if (changesState(decisions)) this.dispatch.wake();
    return decisions;
  }

  /** What `admit()` decides over the snapshot with these queued jobs, and why each job without a grant waits; undefined when none is queued. */
  private async decide(due: readonly JobEntity[]) {
    if (due.length === 0) return undefined;
    const snapshot = await this.snapshot(due);
    const granted = new Set(snapshot.grants.map((grant) => `${grant.queueId}\0${grant.projectId}`));
    const [withGrant, withoutGrant] = partition(due, (job) => granted.has(`${job.queue}\0${job.projectId}`));
    const decisions = admit({ ...snapshot, pending: withGrant.map(pendingWorkload) });
    const waiting = [
      ...decisions.waiting,
      ...withoutGrant.map((job) => ({ workloadId: job.id, reason: `waiting: project ${job.projectId} has no grant on queue ${job.queue}; an org admin gives one with SetGrant` })),
    ];
    return { decisions, waiting, pending: new Map(due.map((job) => [job.id, job])) };
  }

  private async snapshot(pending: readonly JobEntity[]): Promise<Omit<AdmissionSnapshot, 'pending'>> {
    const [queues, grants, holding] = await Promise.all([this.queues.all(), this.queues.allGrants(), this.jobs.holding()]);
    const wanted = new Set(pending.map((job) => job.queue));
    const clusterNames = [...new Set(queues.filter((queue) => wanted.has(queue.name) || queue.cohort !== '').map((queue) => queue.cluster))];
    return {
      clusters: await Promise.all(clusterNames.map((name) => this.clusters.forAdmission(name))),
      queues: queues
        .filter((queue) => clusterNames.includes(queue.cluster))
        .map((queue) => ({
          id: queue.name,
          name: queue.name,
          clusterId: queue.cluster,
          cohort: queue.cohort || undefined,
          preemption: { reclaimWithinCohort: queue.reclaimWithinCohort, withinQueue: queue.withinQueue },
        })),
      grants: grants.map((grant) => ({ queueId: grant.queue, projectId: grant.projectId, quotas: grant.quotas })),
      admitted: holding.map((job) => ({
        id: job.id,
        queueId: job.queue,
        projectId: job.projectId,
        priority: job.priority,
        replicas: job.replicas,
        request: job.admittedRequest ?? {},
        admittedAt: job.admittedAt ?? 0,
      })),
    };
  }

  private async apply(decisions: AdmissionDecisions, pending: ReadonlyMap<string, JobEntity>, now: number): Promise<void> {
    await this.jobs.transaction(async (tx) => {
      for (const preemption of decisions.preempt) await this.preempt(tx, preemption.workloadId, preemption.reason, now);
      for (const admission of decisions.admit) {
        const job = await this.jobs.lock(tx, admission.workloadId);
        if (job?.state !== 'QUEUED') continue;
        const changes = { state: 'ADMITTED' as const, reason: admission.borrowing ? 'admitted, borrowing idle quota of the cohort' : 'admitted', admittedAt: now, admittedRequest: admission.request, borrowing: admission.borrowing, updatedAt: now };
        await this.jobs.update(tx, job.id, changes);
        await publishJobEvent(this.outbox, tx, { ...job, ...changes }, 'ADMITTED', { actor: ACTOR });
      }
      const changed = new Map<string, string[]>();
      for (const waiting of decisions.waiting) {
        if (pending.get(waiting.workloadId)?.reason === waiting.reason) continue;
        const ids = changed.get(waiting.reason);
        if (ids) ids.push(waiting.workloadId);
        else changed.set(waiting.reason, [waiting.workloadId]);
      }
      for (const [reason, ids] of changed) await this.jobs.setWaitingReason(tx, ids, reason);
    });
  }

  /** Gives the job's quota back and queues it again; its live attempt is asked to stop. */
  private async preempt(tx: EntityManager, jobId: string, reason: string, now: number): Promise<void> {
    const job = await this.jobs.lock(tx, jobId);
    if (!job || !HOLDING_STATES.includes(job.state)) return;
    const changes = { state: 'QUEUED' as const, reason, admittedAt: null, admittedRequest: null, borrowing: false, notBefore: 0, updatedAt: now };
    await this.jobs.update(tx, jobId, changes);
    const attempt = await this.jobs.latestAttempt(tx, jobId);
    if (attempt && LIVE_ATTEMPT_STATES.includes(attempt.state)) await this.jobs.updateAttempt(tx, attempt, { stop: 'preempt', reason });
    await publishJobEvent(this.outbox, tx, { ...job, ...changes }, 'QUEUED', { actor: ACTOR, attempt: attempt?.number });
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
