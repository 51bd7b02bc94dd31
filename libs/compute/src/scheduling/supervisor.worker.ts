import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, pause, SERVICE_CONFIG, type Worker } from '@trellis/platform';
import { FINAL_JOB_STATES, type JobStatus } from '@trellis/plugin-sdk';
import { ClusterService } from '../clusters/cluster.service';
import { DatasetInputError, DatasetMaterializer } from '../datasets/dataset-materializer';
import type { ComputeConfig } from '../compute.config';
import { attemptKey, FINAL_STATES, LIVE_ATTEMPT_STATES, type AttemptEntity } from '../jobs/job.entity';
import { JobRepository } from '../jobs/job.repository';
import { clustersOf } from '../queues/queue.entity';
import { QueueRepository } from '../queues/queue.repository';
import { AdmissionSignal, DispatchSignal } from './admission-signal';
import { AttemptLedger } from './attempt-ledger';
import { backendSpec } from './backend-spec';
import { failpoint } from './failpoints';
import { JobRuns } from '../jobs/job-runs';

/** Longest wait between two tries to watch an attempt whose backend failed. */
const MAX_RETRY_MS = 30_000;

/**
 * Runs admitted jobs on their clusters (one replica supervises). Each admitted job's next attempt
 * is recorded as SUBMITTING under the idempotency key `<jobId>:<n>`, on the cluster admission
 * placed it on; the supervisor submits it there, records the backend's id (STARTING) and watches it
 * to its end; it cancels attempts asked to stop (cancel, preemption, timeout). At start it
 * reconciles with the backends: every SUBMITTING attempt is submitted again with its key (the
 * backend answers with the job it already has, starting nothing), every STARTING or RUNNING one is
 * watched again, and backend jobs with Trellis labels that no live attempt owns are cancelled.
 * Attempts on a cluster that stopped answering move off it ({@link AttemptLedger.moveOff}): those
 * that never ran go back to the queue to be placed elsewhere, those that ran fail and retry.
 */
@Injectable()
export class SupervisorWorker implements Worker {
  /** Attempts being submitted or watched now, by key, so each has one task. */
  private readonly tasks = new Map<string, Promise<void>>();
  /** Clusters attempts moved off: when one answers again, what still runs there for them is cancelled. */
  private readonly movedOff = new Set<string>();

  constructor(
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly clusters: ClusterService,
    private readonly ledger: AttemptLedger,
    private readonly runs: JobRuns,
    private readonly datasets: DatasetMaterializer,
    private readonly wakeup: DispatchSignal,
    private readonly admission: AdmissionSignal,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.cancelOrphans();
    } catch (error) {
      this.logger.warn({ error: String(error) }, 'could not list backend jobs to find orphans; live attempts are still resumed');
    }
    try {
      await this.datasets.prune(await this.jobs.liveAttempts());
    } catch (error) {
      this.logger.warn({ error: String(error) }, "could not drop the dataset copies of attempts that ended while the service was away");
    }
    while (!signal.aborted) {
      try {
        await this.moveOffSilentClusters();
        await this.resume(signal);
        await this.stopRequested();
        await this.dispatchAdmitted(signal);
      } catch (error) {
        this.logger.warn({ error: String(error) }, 'supervision pass failed; it runs again at the next wake-up');
      }
      await this.wakeup.wait(this.config.admissionIntervalMs, signal);
    }
    await Promise.allSettled(this.tasks.values());
  }

  /** Submits (again) every SUBMITTING attempt and watches every STARTING or RUNNING one that has no task. */
  private async resume(signal: AbortSignal): Promise<void> {
    for (const attempt of await this.jobs.liveAttempts()) {
      if (this.tasks.has(attemptKey(attempt))) continue;
      this.track(attempt, signal);
    }
  }

  /** Opens an attempt of each job admitted without one (by a version before admission opened them) on its queue's first cluster, and starts its task. */
  private async dispatchAdmitted(signal: AbortSignal): Promise<void> {
    for (const job of await this.jobs.admittedWithoutAttempt()) {
      const queue = await this.queues.find(job.queue);
      if (!queue) continue;
      const opened = await this.ledger.open(job.id, clustersOf(queue)[0].name);
      if (opened) this.track(opened.attempt, signal);
    }
  }

  /**
   * Moves the live attempts off each cluster that stopped answering (its instance deleted, or its
   * health checks failing in a row): each is cancelled there as far as the cluster still answers,
   * and the job is queued again or retried. A cluster attempts moved off that answers again has
   * what still runs there for them cancelled, so nothing runs twice.
   */
  private async moveOffSilentClusters(): Promise<void> {
    const byCluster = new Map<string, AttemptEntity[]>();
    for (const attempt of await this.jobs.liveAttempts()) byCluster.set(attempt.cluster, [...(byCluster.get(attempt.cluster) ?? []), attempt]);
    for (const cluster of new Set([...byCluster.keys(), ...this.movedOff])) {
      const reason = await this.clusters.stoppedAnswering(cluster);
      if (reason === undefined) {
        if (this.movedOff.delete(cluster)) await this.cancelOrphans([cluster]);
        continue;
      }
      for (const attempt of byCluster.get(cluster) ?? []) await this.moveOff(attempt, reason);
    }
  }

  /** Moves one attempt off its cluster (see `moveOffSilentClusters`). */
  private async moveOff(attempt: AttemptEntity, reason: string): Promise<void> {
    this.movedOff.add(attempt.cluster);
    this.logger.warn({ job: attempt.jobId, attempt: attempt.number, cluster: attempt.cluster }, 'moving an attempt off a cluster that stopped answering');
    const outcome = await this.ledger.moveOff(attempt, reason);
    if (outcome !== 'attempt-only') this.admission.wake([attempt.jobId]);
    await this.cancelQuietly(attempt);
    await this.release(attempt);
  }

  /** Cancels the attempt on its backend if the backend has it and answers; a failure is logged, the orphan scan cancels it later. */
  private async cancelQuietly(attempt: Pick<AttemptEntity, 'jobId' | 'number' | 'cluster' | 'backendJobId'>): Promise<void> {
    if (attempt.backendJobId === '' || !this.clusters.names().includes(attempt.cluster)) return;
    try {
      await (await this.clusters.backend(attempt.cluster)).cancel(attempt.backendJobId);
    } catch (error) {
      this.logger.warn({ job: attempt.jobId, attempt: attempt.number, error: String(error) }, 'could not cancel an attempt on a cluster that stopped answering; it is cancelled when the cluster answers again');
    }
  }

  /** Cancels on their backends the live attempts someone asked to stop; their watch then records the end. */
  private async stopRequested(): Promise<void> {
    for (const attempt of await this.jobs.stoppingAttempts()) {
      if (attempt.backendJobId === '') continue;
      try {
        await (await this.clusters.backend(attempt.cluster)).cancel(attempt.backendJobId);
      } catch (error) {
        this.logger.warn({ job: attempt.jobId, attempt: attempt.number, error: String(error) }, 'could not cancel an attempt on its backend; trying again at the next pass');
      }
    }
  }

  private track(attempt: AttemptEntity, signal: AbortSignal): void {
    const key = attemptKey(attempt);
    const task = this.supervise(attempt, signal)
      .catch((error) => this.logger.warn({ job: attempt.jobId, attempt: attempt.number, error: String(error) }, 'supervising an attempt failed; it is resumed at the next pass'))
      .finally(() => this.tasks.delete(key));
    this.tasks.set(key, task);
  }

  /** Submits the attempt if it is SUBMITTING, then watches it to its end. */
  private async supervise(attempt: AttemptEntity, signal: AbortSignal): Promise<void> {
    let current: AttemptEntity | null = attempt;
    if (attempt.state === 'SUBMITTING') current = await this.submit(attempt);
    if (!current || !LIVE_ATTEMPT_STATES.includes(current.state) || current.backendJobId === '') return;
    if (current.stop) await (await this.clusters.backend(current.cluster)).cancel(current.backendJobId);
    const job = await this.jobs.find(current.jobId);
    await this.watch(current, job?.spec.timeoutMs ?? 0, signal);
  }

  /** Submits with the attempt's key and records the backend's id; a spec the backend refuses fails the job. */
  private async submit(attempt: AttemptEntity): Promise<AttemptEntity | null> {
    const job = await this.jobs.find(attempt.jobId);
    if (!job) return null;
    const backend = await this.clusters.backend(attempt.cluster);
    let inputsEnv: Record<string, string>;
    try {
      inputsEnv = await this.datasets.prepare(job, attempt);
    } catch (error) {
      if (!(error instanceof DatasetInputError)) throw error;
      await this.end(attempt, { jobId: '', state: 'failed', message: error.message });
      return null;
    }
    const run = await this.runs.prepare(job, attempt);
    let backendJobId: string;
    try {
      ({ jobId: backendJobId } = await backend.submit(backendSpec({ ...job, runId: run.env.MLFLOW_RUN_ID ?? job.runId }, attempt, { ...inputsEnv, ...run.env }), { idempotencyKey: attemptKey(attempt) }));
    } catch (error) {
      if (!(error instanceof TypeError)) {
        // The backend is away: the attempt stays SUBMITTING and is submitted again, with a credential of its own then.
        await this.runs.revoke(job, run.credentialId).catch(() => undefined);
        throw error;
      }
      await this.end({ ...attempt, credentialId: run.credentialId }, { jobId: '', state: 'failed', message: `the backend refused the job: ${error.message}` }, false);
      return null;
    }
    failpoint('compute.after-submit');
    const recorded = await this.ledger.submitted(attempt, backendJobId, run.credentialId);
    // Moved off the cluster while the backend took it: what was accepted there must not run beside the job's next attempt.
    if (recorded && !LIVE_ATTEMPT_STATES.includes(recorded.state)) await this.cancelQuietly({ ...attempt, backendJobId });
    return recorded;
  }

  /** Follows the attempt's states on its backend until it ends, then records the end; backend failures are retried with a growing pause. */
  private async watch(attempt: AttemptEntity, timeoutMs: number, signal: AbortSignal): Promise<void> {
    let current = attempt;
    let retryMs = 500;
    let timeout: NodeJS.Timeout | undefined;
    const armTimeout = (startedAt: number) => {
      if (timeoutMs > 0 && !timeout) timeout = setTimeout(() => void this.timeOut(current, timeoutMs), Math.max(0, startedAt + timeoutMs - Date.now()));
    };
    try {
      if (current.state === 'RUNNING' && current.startedAt !== null) armTimeout(current.startedAt);
      while (!signal.aborted) {
        try {
          const backend = await this.clusters.backend(current.cluster);
          for await (const status of backend.watch(current.backendJobId, { signal })) {
            retryMs = 500;
            if (status.state === 'running') {
              const startedAt = status.startedAt?.getTime() ?? Date.now();
              const wasRunning = current.state === 'RUNNING';
              current = (await this.ledger.running(current, startedAt)) ?? current;
              armTimeout(startedAt);
              if (!wasRunning) await this.followRun(current.jobId);
            } else if (FINAL_JOB_STATES.includes(status.state)) {
              // A cluster whose instance is deleted ends its jobs as it closes: that is a move, not a user's cancel.
              const gone = status.state === 'cancelled' && current.stop === null ? await this.clusters.stoppedAnswering(current.cluster) : undefined;
              if (gone && !this.clusters.names().includes(current.cluster)) await this.moveOff(current, gone);
              else await this.end(current, status);
              return;
            }
          }
        } catch (error) {
          if (signal.aborted) return;
          // An attempt moved off its cluster (or ended otherwise) is no longer watched.
          const stored = (await this.jobs.attempts(current.jobId)).find((attempt) => attempt.number === current.number);
          if (!stored || !LIVE_ATTEMPT_STATES.includes(stored.state)) return;
          this.logger.warn({ job: current.jobId, attempt: current.number, error: String(error) }, `watching an attempt failed; watching again in ${retryMs} ms`);
        }
        await pause(retryMs, signal);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Asks the attempt to stop at its timeout; the next pass cancels it on the backend, and its end counts as a failure. */
  private async timeOut(attempt: AttemptEntity, limitMs: number): Promise<void> {
    try {
      await this.ledger.requestStop(attempt, 'timeout', `timed out after ${limitMs / 1000} s`);
      this.wakeup.wake();
    } catch (error) {
      this.logger.warn({ job: attempt.jobId, attempt: attempt.number, error: String(error) }, 'could not record a timeout');
    }
  }

  /** Records the attempt's end, revokes its credential, and sets the run's status once the job is final. */
  private async end(attempt: AttemptEntity, status: JobStatus, retry = true): Promise<void> {
    const outcome = await this.ledger.finish(attempt, status, retry);
    if (outcome !== 'attempt-only') this.admission.wake([attempt.jobId]);
    await this.release(attempt);
  }

  /** Drops an ended attempt's dataset copies, revokes its credential, and sets the run's status once the job is final. */
  private async release(attempt: AttemptEntity): Promise<void> {
    await this.datasets.release(attempt).catch((error: unknown) => this.logger.warn({ job: attempt.jobId, attempt: attempt.number, error: String(error) }, "could not drop an attempt's dataset copies; the next start drops them"));
    const job = await this.jobs.find(attempt.jobId);
    if (!job) return;
    try {
      await this.runs.revoke(job, attempt.credentialId);
    } catch (error) {
      this.logger.warn({ job: job.id, attempt: attempt.number, error: String(error) }, "could not revoke an attempt's credential; it expires on its own");
    }
    if (FINAL_STATES.includes(job.state)) await this.followRun(job.id);
  }

  /** Sets the job's run status to its state's; a failure is logged, never the job's. */
  private async followRun(jobId: string): Promise<void> {
    const job = await this.jobs.find(jobId);
    if (!job) return;
    try {
      await this.runs.follow(job.id, job.state);
    } catch (error) {
      this.logger.warn({ job: job.id, error: String(error) }, "could not set the run's status");
    }
  }

  /** Cancels backend jobs with Trellis labels that no live attempt owns (left by a crash, or by an attempt that moved on), on every cluster of a queue or those named. */
  private async cancelOrphans(only?: readonly string[]): Promise<void> {
    const live = new Set((await this.jobs.liveAttempts()).map(attemptKey));
    const queues = await this.queues.all();
    for (const cluster of only ?? new Set(queues.flatMap((queue) => clustersOf(queue).map(({ name }) => name)))) {
      if (!this.clusters.names().includes(cluster)) continue;
      const backend = await this.clusters.backend(cluster);
      // A queue that left the cluster may still have run jobs there: every queue's projects are listed.
      const projects = await this.jobs.projectsOn(queues.map((queue) => queue.name));
      for (const projectId of projects) {
        for (const summary of await backend.list({ labels: { 'trellis-project': projectId } })) {
          const jobId = summary.labels['trellis-job'];
          const number = summary.labels['trellis-attempt'];
          if (!jobId || !number || FINAL_JOB_STATES.includes(summary.state) || live.has(`${jobId}:${number}`)) continue;
          this.logger.warn({ job: jobId, attempt: number, backendJobId: summary.jobId, cluster }, 'cancelling a backend job no live attempt owns');
          await backend.cancel(summary.jobId);
        }
      }
    }
  }
}
