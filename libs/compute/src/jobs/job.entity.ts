import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Resources } from '../admission';
import type { StoredJobSpec } from './job-spec';

/** Where a job is; the names of the proto's JobState without the prefix. */
export type JobStateName = 'QUEUED' | 'ADMITTED' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** States that hold quota: admission counts their usage. */
export const HOLDING_STATES: readonly JobStateName[] = ['ADMITTED', 'STARTING', 'RUNNING'];

/** States after which a job never changes. */
export const FINAL_STATES: readonly JobStateName[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** What a job's `reason` says in the states whose reason never varies. */
export const STATE_REASONS = {
  submitted: 'waiting: the admission loop has not looked at the job yet',
  starting: 'starting on the backend',
  running: 'running',
  none: '',
} as const;

/** A submitted job: its spec as validated, and where it is. */
@Entity('jobs')
export class JobEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 63 })
  queue!: string;

  /** The client's request_id; unique in the project when set. */
  @Column('varchar', { name: 'request_id', length: 128, nullable: true })
  requestId!: string | null;

  @Column('simple-json')
  spec!: StoredJobSpec;

  @Column('integer')
  priority!: number;

  /** Replicas of the spec, and what one replica asks for, as admission reads them. */
  @Column('integer')
  replicas!: number;

  /** The replica's `cpu`, `memory` and typed `gpu/<type>` (see `admissionRequest`). */
  @Column('simple-json')
  request!: Resources;

  /** GPUs per replica of any type (the spec named none); 0 when it names a type or asks for none. */
  @Column('integer', { name: 'any_gpus' })
  anyGpus!: number;

  @Column('varchar', { length: 16 })
  state!: JobStateName;

  @Column('text')
  reason!: string;

  @Column('varchar', { name: 'run_id', length: 64 })
  runId!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;

  /** Not admitted before this time (a retry's backoff); 0 for at once. */
  @Column('bigint', { name: 'not_before', transformer: epochMillis })
  notBefore!: number;

  /** When it was last admitted; null while it holds no quota. */
  @Column('bigint', { name: 'admitted_at', transformer: epochMillis, nullable: true })
  admittedAt!: number | null;

  /** What one replica was admitted with (GPU type resolved); null while it holds no quota. */
  @Column('simple-json', { name: 'admitted_request', nullable: true })
  admittedRequest!: Resources | null;

  @Column('boolean')
  borrowing!: boolean;
}

/** How an attempt was asked to stop: by a user, for another job, or at its timeout. */
export type StopKind = 'cancel' | 'preempt' | 'timeout';

/** Where an attempt is; the names of the proto's AttemptState without the prefix. */
export type AttemptStateName = 'SUBMITTING' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** Attempts that may still run on their backend. */
export const LIVE_ATTEMPT_STATES: readonly AttemptStateName[] = ['SUBMITTING', 'STARTING', 'RUNNING'];

/**
 * Most attempts one job has (Job.attempts' max_items): moves off silent clusters and preemptions
 * use up no retry, so without a bound a job could gather attempts without end.
 */
export const MAX_ATTEMPTS = 64;

/** Why the job fails instead of going back to the queue after its attempt `number` ended for `why`; undefined while it may have another. */
export function outOfAttempts(number: number, why: string): string | undefined {
  return number >= MAX_ATTEMPTS ? `failed: ${why}; attempt ${number} was the job's last (a job has at most ${MAX_ATTEMPTS} attempts)` : undefined;
}

/** One submission of a job to its cluster, under the idempotency key `<jobId>:<number>`. */
@Entity('attempts')
export class AttemptEntity {
  @PrimaryColumn('varchar', { name: 'job_id', length: 36 })
  jobId!: string;

  @PrimaryColumn('integer')
  number!: number;

  @Column('varchar', { length: 16 })
  state!: AttemptStateName;

  /** The compute instance it was submitted to: the one admission placed the job on. */
  @Column('varchar', { length: 128 })
  cluster!: string;

  /** Why it went to that cluster, as admission put it (the queue's policy, what the clusters before it lacked); empty in older rows. */
  @Column('text')
  placement!: string;

  @Column('varchar', { name: 'backend_job_id', length: 256 })
  backendJobId!: string;

  /** The API key of the job's submitter in the attempt's MLFLOW_TRACKING_TOKEN, revoked when it ends; empty without a run. */
  @Column('varchar', { name: 'credential_id', length: 64 })
  credentialId!: string;

  /** Set when someone asked the attempt to stop and it has not ended yet. */
  @Column('varchar', { length: 16, nullable: true })
  stop!: StopKind | null;

  @Column('text')
  reason!: string;

  @Column('integer', { name: 'exit_code', nullable: true })
  exitCode!: number | null;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'started_at', transformer: epochMillis, nullable: true })
  startedAt!: number | null;

  @Column('bigint', { name: 'finished_at', transformer: epochMillis, nullable: true })
  finishedAt!: number | null;
}

/** The idempotency key of an attempt: the same for every submission of it, so a resubmission starts nothing new. */
export function attemptKey(attempt: Pick<AttemptEntity, 'jobId' | 'number'>): string {
  return `${attempt.jobId}:${attempt.number}`;
}
