import type { PluginInstance } from './plugin-instance';

/** GPUs of one type that a backend has. */
export interface GpuPool {
  /** How many GPUs of the type (an integer, 0 or more). */
  count: number;
  /** Memory of each one of them, in bytes. */
  memoryBytes: number;
}

/** Amounts of compute a backend has (in all, or free now). */
export interface ComputeResources {
  /** CPU cores; fractions allowed (0.5 = half a core). */
  cpus: number;
  /** Memory in bytes. */
  memoryBytes: number;
  /**
   * GPUs by type as the backend names them, with the memory of each GPU:
   * `{ 'nvidia-h100-80gb': { count: 8, memoryBytes: 85_899_345_920 } }`; empty when there are none.
   */
  gpus: Readonly<Record<string, GpuPool>>;
}

/** What a backend can run. */
export interface ComputeCapacity {
  /** Everything the backend has (for an autoscaling cluster: its current maximum). */
  total: ComputeResources;
  /** What is free right now, where the backend knows. */
  available?: ComputeResources;
}

/** What one replica of a job needs. */
export interface ResourceRequest {
  /** CPU cores. */
  cpus: number;
  /** Memory in bytes. */
  memoryBytes: number;
  /**
   * GPUs: how many, of which type when it matters (a key of `ComputeResources.gpus`), and with at
   * least how much memory each when the type does not matter but the memory does.
   */
  gpus?: { count: number; type?: string; minMemoryBytes?: number };
}

/**
 * A job to run: a container `image` (its entrypoint, or `command` in it), or a `command` run as is
 * where the backend runs processes (compute-local, Slurm). A backend that needs one it was not given
 * refuses the job at `submit`.
 */
export type JobSpec = {
  /** A label for people (shown in the backend's own tools where it has them). */
  name: string;
  /** Resources of each replica. */
  resources: ResourceRequest;
  /** How many copies run at once (distributed training); default 1. Each gets `TRELLIS_REPLICA_INDEX`. */
  replicas?: number;
  /** Environment variables of the job. */
  env?: Readonly<Record<string, string>>;
  /**
   * Labels kept with the job (Kubernetes labels, a Slurm comment), by which `list` finds it and which
   * `list` reports back. Keys and values of at most 63 characters of `A-Z a-z 0-9 . _ -` fit every backend.
   */
  labels?: Readonly<Record<string, string>>;
} & ({ image: string; command?: readonly string[] } | { image?: undefined; command: readonly string[] });

/** Where a job is in its life. `succeeded`, `failed` and `cancelled` are final. */
export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The states after which a job never changes again. */
export const FINAL_JOB_STATES: readonly JobState[] = Object.freeze(['succeeded', 'failed', 'cancelled']);

/** A job's state as the backend reports it. */
export interface JobStatus {
  /** The backend's id of the job, as `submit` returned it. */
  jobId: string;
  /** Where the job is now. */
  state: JobState;
  /** Why, for people: a scheduling reason, an error. */
  message?: string;
  /** Exit code of the job (of the first replica that failed, for several) once final. */
  exitCode?: number;
  /** When the first replica started running. */
  startedAt?: Date;
  /** When the job reached its final state. */
  finishedAt?: Date;
}

/** What `list` reports of a job: its status and the labels it was submitted with. */
export interface JobSummary extends JobStatus {
  /** The job's `JobSpec.labels` (a backend may add labels of its own). */
  labels: Readonly<Record<string, string>>;
}

/** Options of `submit`. */
export interface SubmitOptions {
  /**
   * Names the submission, chosen by the caller (1 to 128 characters of `A-Z a-z 0-9 . _ : -`; see
   * `IDEMPOTENCY_KEY_PATTERN`): submitting again with a key the backend has already accepted
   * returns the job id of that first submission and starts nothing new, so a caller that crashed
   * or timed out after `submit` can simply submit again. A key stays taken at least as long as the
   * backend lists its job.
   */
  idempotencyKey: string;
}

/** Options of `list`. */
export interface ListJobsOptions {
  /** Only jobs whose labels include every one of these (same key, same value); all jobs when empty. */
  labels: Readonly<Record<string, string>>;
}

/** What an idempotency key is made of: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Checks an idempotency key against `IDEMPOTENCY_KEY_PATTERN`; a compute plugin calls it first in
 * `submit`. Throws a `TypeError` naming `idempotencyKey` and saying what is allowed.
 */
export function validateIdempotencyKey(key: unknown): asserts key is string {
  if (typeof key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(key)) return;
  const got = typeof key === 'string' ? `${JSON.stringify(key.slice(0, 40))}${key.length > 40 ? '...' : ''} (${key.length} characters)` : typeof key;
  throw new TypeError(`idempotencyKey must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-', got ${got}`);
}

/** One line a job wrote. */
export interface JobLogLine {
  /** When the backend received it. */
  time: Date;
  /** Which output of the process it came from. */
  stream: 'stdout' | 'stderr';
  /** Which replica wrote it (0-based). */
  replica: number;
  /** The line without its newline. */
  line: string;
}

/** Options of `logs`. */
export interface LogOptions {
  /** Keep streaming new lines until the job is final (default false: what there is now). */
  follow?: boolean;
  /** Stops the stream. */
  signal?: AbortSignal;
}

/**
 * Compute contract, v1: runs jobs on a backend (local processes, Slurm, Kubernetes, Ray).
 * Unknown job ids throw `JobNotFoundError`. Checked by `describeComputeConformance`.
 */
export interface ComputeBackend extends PluginInstance {
  /** What the backend can run, for placement and quotas. */
  capacity(): Promise<ComputeCapacity>;
  /**
   * Optional: why this backend cannot run `job`, as a sentence a person can act on ("compute-local
   * runs commands, not container images: ..."), or `undefined` when it can. Synchronous, with no side
   * effects and no I/O, so a scheduler may ask it of every cluster before placing a job and only
   * place the job where the answer is `undefined`. It judges the kind of job (an image, a command),
   * not whether there is room now. A backend without the method can run every job `submit` accepts.
   * `submit` of a job this method refuses throws a `TypeError` with the same sentence and starts
   * nothing. Added to v1 as optional: plugins without it still conform.
   */
  whyCannotRun?(job: JobSpec): string | undefined;
  /**
   * Starts a job and returns its id once the backend has accepted it. With an `idempotencyKey` the
   * backend has accepted before, returns that job's id and starts nothing. Throws a `TypeError`
   * naming the field for an invalid key or a spec the backend cannot run (for a job `whyCannotRun`
   * refuses, with its sentence), before starting anything.
   */
  submit(job: JobSpec, options: SubmitOptions): Promise<{ jobId: string }>;
  /** The job's state now. */
  status(jobId: string): Promise<JobStatus>;
  /**
   * The jobs the backend knows (running, queued, and final ones it still remembers) whose labels
   * include all of `labels`, in no particular order: how a restarted service finds jobs it
   * submitted but never recorded.
   */
  list(options: ListJobsOptions): Promise<JobSummary[]>;
  /** Each change of the job's state, starting with the current one; ends after a final state or on `signal`. */
  watch(jobId: string, options?: { signal?: AbortSignal }): AsyncIterable<JobStatus>;
  /** Stops the job; cancelling a final job changes nothing and succeeds. */
  cancel(jobId: string): Promise<void>;
  /** The job's output lines, in order per replica. */
  logs(jobId: string, options?: LogOptions): AsyncIterable<JobLogLine>;
}
