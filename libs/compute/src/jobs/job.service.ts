import { Inject, Injectable } from '@nestjs/common';
import {
  AuditRecorder,
  type Caller,
  checkNoControlCharacters,
  checkRequired,
  decodePageToken,
  excerpt,
  FailedPreconditionError,
  InvalidArgumentError,
  LOGGER,
  type Logger,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  SERVICE_CONFIG,
} from '@trellis/platform';
import type { JobLogLine } from '@trellis/plugin-sdk';
import type { JobSpec } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import { ClusterService } from '../clusters/cluster.service';
import type { ComputeConfig } from '../compute.config';
import { AdmissionSignal, DispatchSignal } from '../scheduling/admission-signal';
import { admissionRequest, validateJobSpec } from './job-spec';
import { publishJobEvent } from './job-events';
import { FINAL_STATES, LIVE_ATTEMPT_STATES, STATE_REASONS, type AttemptEntity, type JobEntity, type JobStateName } from './job.entity';
import { JobRepository } from './job.repository';
import { DatasetInputs } from './dataset-inputs';
import { JobRuns } from './job-runs';
import { PriorityClasses } from './priority-classes';
import { SubmissionWriter } from './submission-writer';

/** The resource kind of jobs in permission rules and audit records. */
export const JOB_KIND = 'Job';

/** What a caller submits. */
export interface Submission {
  projectId: string;
  queue: string;
  spec: JobSpec | undefined;
  requestId: string;
}

/** Which of a project's jobs to list, and which page. */
export interface JobListQuery {
  projectId: string;
  queue: string;
  state: JobStateName | undefined;
  pageSize: number;
  pageToken: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const POSITION = /^\d{1,16}:[0-9a-f-]{36}$/;

/**
 * Jobs as their project's members see them: submit (into the queue; the admission loop admits),
 * read, list, cancel, and their logs. Each change is written with its event and audit record in one
 * transaction.
 */
@Injectable()
export class JobService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly clusters: ClusterService,
    private readonly priorities: PriorityClasses,
    private readonly inputs: DatasetInputs,
    private readonly runs: JobRuns,
    private readonly submissions: SubmissionWriter,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly admission: AdmissionSignal,
    private readonly dispatch: DispatchSignal,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Queues a job, or returns the job an earlier submission with the same request_id queued. */
  async submit(caller: Caller, submission: Submission): Promise<JobEntity> {
    checkRequired(submission.projectId, 'project_id');
    caller.assert('create', JOB_KIND, { projectId: submission.projectId });
    checkRequired(submission.queue, 'queue');
    if (submission.requestId !== '' && !REQUEST_ID.test(submission.requestId)) {
      checkNoControlCharacters(submission.requestId, 'request_id');
      throw new InvalidArgumentError("must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'", 'request_id');
    }
    const priority = this.priorities.resolve(submission.spec?.priorityClass ?? '');
    const spec = await this.inputs.resolve(caller, submission.projectId, validateJobSpec(submission.spec, { maxReplicas: this.config.maxReplicas, priorityClass: priority.name }));
    const { request, anyGpu } = admissionRequest(spec);
    const now = Date.now();
    const job = await this.submissions.write({
      caller,
      job: {
        id: randomUUID(),
        projectId: submission.projectId,
        queue: submission.queue,
        requestId: submission.requestId || null,
        spec,
        priority: priority.priority,
        replicas: spec.replicas,
        request,
        anyGpus: anyGpu?.count ?? 0,
        state: 'QUEUED',
        reason: STATE_REASONS.submitted,
        runId: '',
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
        notBefore: 0,
        admittedAt: null,
        admittedRequest: null,
        borrowing: false,
      },
    });
    this.admission.wake([job.id]);
    return job;
  }

  /** The job and its attempts, if the caller may read it. */
  async get(caller: Caller, id: string): Promise<{ job: JobEntity; attempts: AttemptEntity[] }> {
    checkRequired(id, 'job_id');
    const job = visible(caller, await this.jobs.find(id), id);
    return { job, attempts: await this.jobs.attempts(id) };
  }

  /** A page of the project's jobs, newest first. */
  async list(caller: Caller, query: JobListQuery): Promise<{ jobs: JobEntity[]; nextPageToken: string }> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', JOB_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId, queue: query.queue, state: query.state ?? '' };
    const token = decodePageToken(query.pageToken, listing, POSITION);
    const after = token === undefined ? undefined : { createdAt: Number(token.split(':')[0]), id: token.slice(token.indexOf(':') + 1) };
    const rows = await this.jobs.page({ projectId: query.projectId, queue: query.queue || undefined, state: query.state }, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (job) => `${job.createdAt}:${job.id}`, listing);
    return { jobs: items, nextPageToken };
  }

  /** Cancels the job: it releases its quota now, and its live attempt is stopped on the backend. */
  async cancel(caller: Caller, id: string): Promise<JobEntity> {
    checkRequired(id, 'job_id');
    const job = await this.jobs.transaction(async (tx) => {
      const locked = visible(caller, await this.jobs.lock(tx, id), id);
      caller.assert('update', JOB_KIND, { projectId: locked.projectId, id });
      if (locked.state === 'CANCELLED') return { job: locked, live: false };
      if (FINAL_STATES.includes(locked.state)) {
        throw new FailedPreconditionError(`job ${id} already ${locked.state === 'SUCCEEDED' ? 'succeeded' : 'failed'}; there is nothing to cancel`, { reason: 'JOB_ALREADY_FINISHED' });
      }
      const reason = `cancelled by ${caller.authenticated.id}`;
      const changes = { state: 'CANCELLED' as const, reason, updatedAt: Date.now(), admittedAt: null, admittedRequest: null, borrowing: false };
      await this.jobs.update(tx, id, changes);
      const attempt = await this.jobs.latestAttempt(tx, id);
      const live = !!attempt && LIVE_ATTEMPT_STATES.includes(attempt.state);
      if (attempt && live) await this.jobs.updateAttempt(tx, attempt, { stop: 'cancel', reason });
      const cancelled = { ...locked, ...changes };
      await publishJobEvent(this.outbox, tx, cancelled, 'CANCELLED', { actor: caller.authenticated.id, requestId: caller.requestId, attempt: attempt?.number });
      await this.audit.recordIn(tx, caller);
      return { job: cancelled, live };
    });
    this.dispatch.wake();
    this.admission.wake([id]);
    // A live attempt's end sets the run's status (the supervisor); a job waiting for a retry has none to wait for.
    if (!job.live && job.job.runId !== '') {
      await this.runs.follow(job.job.id, 'CANCELLED').catch((error: unknown) => this.logger.warn({ job: id, error: String(error) }, "could not set the cancelled job's run KILLED"));
    }
    return job.job;
  }

  /** The lines of the job's attempt (`attempt` 0: the latest), following it to its end when asked. */
  async *logs(caller: Caller, id: string, attemptNumber: number, follow: boolean, signal: AbortSignal): AsyncGenerator<JobLogLine & { attempt: number }> {
    const { attempts } = await this.get(caller, id);
    const attempt = attemptNumber === 0 ? attempts.at(-1) : attempts.find((candidate) => candidate.number === attemptNumber);
    if (!attempt || attempt.backendJobId === '') {
      throw new FailedPreconditionError(`job ${id} has ${attemptNumber === 0 ? 'no attempt' : `no attempt ${attemptNumber}`} on a backend yet; follow it once it is STARTING`, {
        reason: 'JOB_NOT_STARTED',
      });
    }
    const backend = await this.clusters.backend(attempt.cluster);
    for await (const line of backend.logs(attempt.backendJobId, { follow, signal })) yield { ...line, attempt: attempt.number };
  }
}

/** The job if the caller may read it; NOT_FOUND `JOB_NOT_FOUND` otherwise, so ids of other projects' jobs tell nothing. */
function visible(caller: Caller, job: JobEntity | null, id: string): JobEntity {
  if (!job || !caller.can('read', JOB_KIND, { projectId: job.projectId, id: job.id })) {
    throw new NotFoundError(`job ${excerpt(id)} not found`, { reason: 'JOB_NOT_FOUND', resource: `jobs/${excerpt(id)}` });
  }
  caller.target = { kind: JOB_KIND, projectId: job.projectId, id: job.id };
  return job;
}
