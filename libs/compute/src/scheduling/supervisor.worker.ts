import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, pause, SERVICE_CONFIG, type Worker } from '@trellis/platform';
import { FINAL_JOB_STATES, type JobStatus } from '@trellis/plugin-sdk';
import { ClusterService } from '../clusters/cluster.service';
import { DatasetInputError, DatasetMaterializer } from '../datasets/dataset-materializer';
import type { ComputeConfig } from '../compute.config';
import { attemptKey, FINAL_STATES, LIVE_ATTEMPT_STATES, type AttemptEntity } from '../jobs/job.entity';
import { JobRepository } from '../jobs/job.repository';
import { QueueRepository } from '../queues/queue.repository';
import { AdmissionSignal, DispatchSignal } from './admission-signal';
import { AttemptLedger } from './attempt-ledger';
import { backendSpec } from './backend-spec';
import { failpoint } from './failpoints';
import { JobRuns } from '../jobs/job-runs';

/** Longest wait between two tries to watch an attempt whose backend failed. */
const MAX_RETRY_MS = 30_000;

/**
 * Runs admitted jobs on their clusters (one replica supervises). For each admitted job it records
 * the next attempt as SUBMITTING under the idempotency key `<jobId>:<n>`, submits it, records the
 * backend's id (STARTING) and watches it to its end; it cancels attempts asked to stop (cancel,
 * preemption, timeout). At start it reconciles with the backends: every SUBMITTING attempt is
 * submitted again with its key (the backend answers with the job it already has, starting nothing),
 * every STARTING or RUNNING one is watched again, and backend jobs with Trellis labels that no live
 * attempt owns are cancelled.
 */
@Injectable()
export class SupervisorWorker implements Worker {
  /** Attempts being submitted or watched now, by key, so each has one task. */
  private readonly tasks = new Map<string, Promise<void>>();

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

  /** Opens an attempt of each admitted job and starts its task. */
  private async dispatchAdmitted(signal: AbortSignal): Promise<void> {
    for (const job of await this.jobs.admittedWithoutAttempt()) {
      const queue = await this.queues.find(job.queue);
      if (!queue) continue;
      const opened = await this.ledger.open(job.id, queue.cluster);
      if (opened) this.track(opened.attempt, signal);
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
    return this.ledger.submitted(attempt, backendJobId, run.credentialId);
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
              await this.end(current, status);
              return;
            }
          }
        } catch (error) {
          if (signal.aborted) return;
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

  /** Cancels backend jobs with Trellis labels that no live attempt owns (left by a crash, or by an attempt that moved on). */
  private async cancelOrphans(): Promise<void> {
    const live = new Set((await this.jobs.liveAttempts()).map(attemptKey));
    const queues = await this.queues.all();
    for (const cluster of new Set(queues.map((queue) => queue.cluster))) {
      if (!this.clusters.names().includes(cluster)) continue;
      const backend = await this.clusters.backend(cluster);
      const projects = await this.jobs.projectsOn(queues.filter((queue) => queue.cluster === cluster).map((queue) => queue.name));
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
