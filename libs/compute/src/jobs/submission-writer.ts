import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, excerpt, FailedPreconditionError, Outbox } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { QueueRepository } from '../queues/queue.repository';
import { found } from '../queues/queue.service';
import { publishQueuedEvents } from './job-events';
import type { JobEntity } from './job.entity';
import { JobRepository, requestKey } from './job.repository';

/** A validated submission: the job it makes, unless its request id names an earlier one. */
export interface PreparedSubmission {
  caller: Caller;
  job: JobEntity;
}

interface Pending extends PreparedSubmission {
  resolve(job: JobEntity): void;
  reject(error: unknown): void;
}

/** Most submissions one transaction writes: 19 parameters a job stay far below SQLite's and PostgreSQL's limits. */
const MAX_BATCH = 256;

/**
 * Writes submissions with group commit: those that arrive in one turn of the event loop, or while
 * a transaction is open, go together into the next one (job rows in one statement, their events in
 * one and their audit records in one), and each caller is answered once that transaction has
 * committed. Up to `JobRepository.writeTransactionsAtOnce` transactions are open at once (several
 * on PostgreSQL); a submission whose request id is in one of them waits for it, so the read of
 * request ids in the next sees its job. A submission that fails on its own (no grant, no queue) fails alone; if the
 * transaction itself fails, each of its submissions is tried again in a transaction of its own, so
 * an error reaches only its cause.
 */
@Injectable()
export class SubmissionWriter {
  private readonly pending: Pending[] = [];
  /** Request keys of the submissions in open transactions. */
  private readonly writingKeys = new Set<string>();
  private readonly batchesAtOnce: number;
  private batches = 0;
  private scheduled = false;

  constructor(
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
  ) {
    this.batchesAtOnce = jobs.writeTransactionsAtOnce;
  }

  /** The job as committed: the new one, or the one an earlier submission with the same request id made. */
  write(submission: PreparedSubmission): Promise<JobEntity> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...submission, resolve, reject });
      this.schedule();
    });
  }

  /** Starts batches after this turn of the event loop, so that the calls read from the sockets in it go together. */
  private schedule(): void {
    if (this.scheduled || this.batches >= this.batchesAtOnce || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.batches < this.batchesAtOnce) {
        const batch = this.takeBatch();
        if (batch.length === 0) return;
        this.batches++;
        void this.writeBatch(batch).finally(() => {
          this.batches--;
          this.schedule();
        });
      }
    });
  }

  /** Up to MAX_BATCH pending submissions, leaving those whose request id is being written. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const keys = new Set<string>();
    let kept = 0;
    for (const submission of this.pending) {
      const key = keyOf(submission.job);
      if (batch.length === MAX_BATCH || (key !== undefined && this.writingKeys.has(key))) {
        this.pending[kept++] = submission;
        continue;
      }
      if (key !== undefined) keys.add(key);
      batch.push(submission);
    }
    this.pending.length = kept;
    for (const key of keys) this.writingKeys.add(key);
    return batch;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      if (batch.length === 1) batch[0].reject(error);
      else for (const one of batch) await this.commit([one]).catch(one.reject);
    } finally {
      for (const { job } of batch) {
        const key = keyOf(job);
        if (key !== undefined) this.writingKeys.delete(key);
      }
    }
  }

  /** Writes the batch in one transaction, then answers each submission. */
  private async commit(batch: Pending[]): Promise<void> {
    const outcomes = await this.jobs.transaction((tx) => this.writeIn(tx, batch));
    outcomes.forEach((outcome, index) => (outcome instanceof Error ? batch[index].reject(outcome) : batch[index].resolve(outcome)));
  }

  /** Each submission's job, or the error that refuses it alone. */
  private async writeIn(tx: EntityManager, batch: Pending[]): Promise<Array<JobEntity | Error>> {
    const requested = batch.filter(({ job }) => job.requestId !== null).map(({ job }) => ({ projectId: job.projectId, requestId: job.requestId ?? '' }));
    const byRequest = await this.jobs.findByRequests(tx, requested);
    const granted = new Map<string, Promise<Error | undefined>>();
    const outcomes: Array<JobEntity | Error> = [];
    const created: Pending[] = [];
    for (const submission of batch) {
      const { caller, job } = submission;
      const key = keyOf(job);
      const earlier = key === undefined ? undefined : byRequest.get(key);
      if (earlier) {
        outcomes.push(earlier);
        continue;
      }
      const grantKey = `${caller.authenticated.orgId}\0${job.queue}\0${job.projectId}`;
      if (!granted.has(grantKey)) granted.set(grantKey, this.grantRefusal(tx, caller, job));
      const refusal = await granted.get(grantKey);
      if (refusal) {
        outcomes.push(refusal);
        continue;
      }
      if (key !== undefined) byRequest.set(key, job);
      outcomes.push(job);
      created.push(submission);
    }
    await this.jobs.insertAll(tx, created.map(({ job }) => job));
    if (created.length > 0) {
      await publishQueuedEvents(this.outbox, tx, created.map(({ caller, job }) => ({ job, context: { actor: caller.authenticated.id, requestId: caller.requestId } })));
      await this.audit.recordAllIn(tx, created.map(({ caller, job }) => ({ caller, created: { id: job.id, projectId: job.projectId } })));
    }
    return outcomes;
  }

  /** Why the caller's org may not submit the job to its queue for its project, if it may not. */
  private async grantRefusal(tx: EntityManager, caller: Caller, job: JobEntity): Promise<Error | undefined> {
    // A grant implies its queue (a queue's grants go with it): the queue is read only to say which is missing.
    if (await this.queues.hasGrant(tx, caller.authenticated.orgId, job.queue, job.projectId)) return undefined;
    try {
      found(await this.queues.find(job.queue, tx), job.queue, caller);
    } catch (error) {
      return error as Error;
    }
    return new FailedPreconditionError(`project ${job.projectId} has no grant on queue ${job.queue}; an org admin gives one with QueueService/SetGrant`, {
      reason: 'GRANT_MISSING',
      resource: `queues/${excerpt(job.queue)}/grants/${excerpt(job.projectId)}`,
    });
  }
}

/** The submission's request key, if it names a request id. */
const keyOf = (job: JobEntity): string | undefined => (job.requestId === null ? undefined : requestKey(job.projectId, job.requestId));
