import { Injectable } from '@nestjs/common';
import { Outbox } from '@trellis/platform';
import type { JobStatus } from '@trellis/plugin-sdk';
import type { EntityManager } from 'typeorm';
import { publishJobEvent } from '../jobs/job-events';
import { HOLDING_STATES, LIVE_ATTEMPT_STATES, outOfAttempts, STATE_REASONS, type AttemptEntity, type AttemptStateName, type JobEntity, type JobStateName } from '../jobs/job.entity';
import { JobRepository } from '../jobs/job.repository';

/** The actor of the supervisor's events. */
const ACTOR = 'compute-supervisor';

/** What `finish` did to the job. */
export type FinishOutcome = 'job-ended' | 'retrying' | 'attempt-only';

/** What `moveOff` did to the job: queued again to be placed elsewhere, or as `finish` does for an attempt that ran. */
export type MoveOutcome = FinishOutcome | 'queued-again';

/**
 * The supervisor's writes, each one transaction with its event (each locks the job before its
 * attempt, as CancelJob and the admission loop do, so that no two of them wait for each other): an attempt recorded before it is
 * submitted, its backend id once accepted, its start, and its end with what that means for the
 * job (done, failed, retried after a backoff, or nothing when the job moved on: cancelled or
 * preempted).
 */
@Injectable()
export class AttemptLedger {
  constructor(
    private readonly jobs: JobRepository,
    private readonly outbox: Outbox,
  ) {}

  /** Records the next attempt of an admitted job as SUBMITTING on `cluster`; null when the job is no longer admitted or has a live attempt. */
  async open(jobId: string, cluster: string, placement = ''): Promise<{ job: JobEntity; attempt: AttemptEntity } | null> {
    return this.jobs.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, jobId);
      if (job?.state !== 'ADMITTED') return null;
      const attempt = await this.openIn(tx, jobId, cluster, placement);
      return attempt ? { job, attempt } : null;
    });
  }

  /** In the caller's transaction, which holds the job's lock: the job's next attempt as SUBMITTING on `cluster`, placed there for `placement`; null when it has a live one. */
  async openIn(tx: EntityManager, jobId: string, cluster: string, placement: string): Promise<AttemptEntity | null> {
    const latest = await this.jobs.latestAttempt(tx, jobId);
    if (latest && LIVE_ATTEMPT_STATES.includes(latest.state)) return null;
    const attempt: AttemptEntity = {
      jobId,
      number: (latest?.number ?? 0) + 1,
      state: 'SUBMITTING',
      cluster,
      placement,
      backendJobId: '',
      credentialId: '',
      stop: null,
      reason: STATE_REASONS.none,
      exitCode: null,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
    };
    await this.jobs.insertAttempt(tx, attempt);
    return attempt;
  }

  /** Records the backend's id of a submitted attempt: STARTING, and the job too while it is its current one. */
  async submitted(attempt: AttemptEntity, backendJobId: string, credentialId: string): Promise<AttemptEntity | null> {
    return this.jobs.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, attempt.jobId);
      const current = await this.jobs.lockAttempt(tx, attempt.jobId, attempt.number);
      if (!current || current.state !== 'SUBMITTING') return current;
      await this.jobs.updateAttempt(tx, current, { state: 'STARTING', backendJobId, credentialId });
      if (job?.state === 'ADMITTED') await this.jobs.update(tx, job.id, { state: 'STARTING', reason: STATE_REASONS.starting, updatedAt: Date.now() });
      return { ...current, state: 'STARTING', backendJobId, credentialId };
    });
  }

  /** Records that the attempt runs, and the job with it (with its event) while it is its current one. */
  async running(attempt: AttemptEntity, startedAt: number): Promise<AttemptEntity | null> {
    return this.jobs.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, attempt.jobId);
      const current = await this.jobs.lockAttempt(tx, attempt.jobId, attempt.number);
      if (!current || !LIVE_ATTEMPT_STATES.includes(current.state)) return null;
      if (current.state === 'RUNNING') return current;
      await this.jobs.updateAttempt(tx, current, { state: 'RUNNING', startedAt });
      if (job && (job.state === 'STARTING' || job.state === 'ADMITTED')) {
        const changes = { state: 'RUNNING' as const, reason: STATE_REASONS.running, updatedAt: Date.now() };
        await this.jobs.update(tx, job.id, changes);
        await publishJobEvent(this.outbox, tx, { ...job, ...changes }, 'RUNNING', { actor: ACTOR, attempt: current.number });
      }
      return { ...current, state: 'RUNNING', startedAt };
    });
  }

  /** Asks a live attempt to stop (its timeout passed); the supervisor then cancels it on the backend. */
  async requestStop(attempt: AttemptEntity, stop: 'timeout', reason: string): Promise<void> {
    await this.jobs.transaction(async (tx) => {
      await this.jobs.lock(tx, attempt.jobId);
      const current = await this.jobs.lockAttempt(tx, attempt.jobId, attempt.number);
      if (current && LIVE_ATTEMPT_STATES.includes(current.state) && current.stop === null) await this.jobs.updateAttempt(tx, current, { stop, reason });
    });
  }

  /**
   * Takes a live attempt off a cluster that stopped answering (`reason`: `moved: cluster <name>
   * stopped answering ...`). One that never ran is CANCELLED and, while it is the job's current
   * one, the job gives its quota back and is QUEUED again at once, to be placed elsewhere (FAILED,
   * saying so, if that was its last attempt: MAX_ATTEMPTS); one that ran FAILED with the reason,
   * and the job is retried per its retry policy (as `finish`).
   */
  async moveOff(attempt: AttemptEntity, reason: string): Promise<MoveOutcome> {
    if (attempt.state === 'RUNNING') return this.finish(attempt, { state: 'failed', message: reason });
    return this.jobs.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, attempt.jobId);
      const current = await this.jobs.lockAttempt(tx, attempt.jobId, attempt.number);
      if (!current || !LIVE_ATTEMPT_STATES.includes(current.state)) return 'attempt-only';
      await this.jobs.updateAttempt(tx, current, { state: 'CANCELLED', finishedAt: Date.now(), reason: current.stop ? current.reason : reason, stop: null });
      const latest = await this.jobs.latestAttempt(tx, attempt.jobId);
      if (!job || !HOLDING_STATES.includes(job.state) || latest?.number !== current.number) return 'attempt-only';
      const last = outOfAttempts(current.number, reason);
      const release = { admittedAt: null, admittedRequest: null, borrowing: false, updatedAt: Date.now() };
      const changes = last ? { ...release, state: 'FAILED' as const, reason: last } : { ...release, state: 'QUEUED' as const, reason, notBefore: 0 };
      await this.jobs.update(tx, job.id, changes);
      await publishJobEvent(this.outbox, tx, { ...job, ...changes }, changes.state, { actor: ACTOR, attempt: current.number });
      return last ? 'job-ended' : 'queued-again';
    });
  }

  /**
   * Records the attempt's end, and the job's when the attempt is still its current one: succeeded,
   * failed (or queued again after a backoff while retries are left and `retry` allows: not when
   * the backend refused the spec, which no retry changes), or cancelled on the backend.
   */
  async finish(attempt: AttemptEntity, status: Pick<JobStatus, 'state' | 'message' | 'exitCode' | 'startedAt' | 'finishedAt'>, retry = true): Promise<FinishOutcome> {
    return this.jobs.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, attempt.jobId);
      const current = await this.jobs.lockAttempt(tx, attempt.jobId, attempt.number);
      if (!current || !LIVE_ATTEMPT_STATES.includes(current.state)) return 'attempt-only';
      const finishedAt = status.finishedAt?.getTime() ?? Date.now();
      const timedOut = current.stop === 'timeout';
      const state: AttemptStateName = timedOut ? 'FAILED' : status.state === 'succeeded' ? 'SUCCEEDED' : status.state === 'failed' ? 'FAILED' : 'CANCELLED';
      const reason = current.stop ? current.reason : (status.message ?? (state === 'SUCCEEDED' ? '' : `ended ${status.state} on the backend`));
      const startedAt = current.startedAt ?? status.startedAt?.getTime() ?? null;
      await this.jobs.updateAttempt(tx, current, { state, startedAt, finishedAt, exitCode: status.exitCode ?? null, reason, stop: null });
      const latest = await this.jobs.latestAttempt(tx, attempt.jobId);
      if (!job || !HOLDING_STATES.includes(job.state) || latest?.number !== current.number) return 'attempt-only';
      // An attempt that ended before its watch saw it run still ran: say so, so the job's events tell its whole story.
      if (job.state !== 'RUNNING' && status.startedAt) await publishJobEvent(this.outbox, tx, { ...job, state: 'RUNNING', reason: STATE_REASONS.running }, 'RUNNING', { actor: ACTOR, attempt: current.number });
      const release = { admittedAt: null, admittedRequest: null, borrowing: false, updatedAt: Date.now() };
      // Retries count failed attempts: one moved off a silent cluster before it ran, or preempted, is no failure of the job.
      const failures = state === 'FAILED' ? (await this.jobs.attempts(attempt.jobId, tx)).filter((each) => each.state === 'FAILED').length : 0;
      const failed = reason || `exit code ${status.exitCode}`;
      const retriesLeft = retry && state === 'FAILED' && failures <= job.spec.retries.max;
      const last = retriesLeft ? outOfAttempts(current.number, failed) : undefined;
      if (retriesLeft && !last) {
        const backoffMs = job.spec.retries.backoffMs * 2 ** (failures - 1);
        const retryReason = `retrying: attempt ${current.number} failed (${failed}); attempt ${current.number + 1} after ${Math.round(backoffMs / 1000)} s`;
        const changes = { ...release, state: 'QUEUED' as const, reason: retryReason, notBefore: Date.now() + backoffMs };
        await this.jobs.update(tx, job.id, changes);
        await publishJobEvent(this.outbox, tx, { ...job, ...changes }, 'QUEUED', { actor: ACTOR, attempt: current.number });
        return 'retrying';
      }
      const jobState: JobStateName = state === 'SUCCEEDED' ? 'SUCCEEDED' : state === 'FAILED' ? 'FAILED' : 'CANCELLED';
      const jobReason = state === 'SUCCEEDED' ? 'succeeded' : state === 'FAILED' ? (last ?? `failed: ${failed}`) : `cancelled on the backend: ${reason}`;
      const changes = { ...release, state: jobState, reason: jobReason };
      await this.jobs.update(tx, job.id, changes);
      await publishJobEvent(this.outbox, tx, { ...job, ...changes }, jobState, { actor: ACTOR, attempt: current.number });
      return 'job-ended';
    });
  }
}
