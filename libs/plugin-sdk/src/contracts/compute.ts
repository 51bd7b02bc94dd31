import type { PluginInstance } from './plugin-instance';

/** Amounts of compute: what a backend has, or what a job asks for per replica. */
export interface ComputeResources {
  /** CPU cores; fractions allowed (0.5 = half a core). */
  cpus: number;
  /** Memory in bytes. */
  memoryBytes: number;
  /** GPUs by type as the backend names them (`nvidia-h100-80gb`: 8); empty when there are none. */
  gpus: Readonly<Record<string, number>>;
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
  /** GPUs: how many, and of which type when it matters. */
  gpus?: { count: number; type?: string };
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
  /** Labels the backend attaches where it can (Kubernetes labels, Slurm comment). */
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
 * Unknown job ids throw `JobNotFoundError`.
 */
export interface ComputeBackend extends PluginInstance {
  /** What the backend can run, for placement and quotas. */
  capacity(): Promise<ComputeCapacity>;
  /** Starts a job and returns its id once the backend has accepted it. */
  submit(job: JobSpec): Promise<{ jobId: string }>;
  /** The job's state now. */
  status(jobId: string): Promise<JobStatus>;
  /** Each change of the job's state, starting with the current one; ends after a final state or on `signal`. */
  watch(jobId: string, options?: { signal?: AbortSignal }): AsyncIterable<JobStatus>;
  /** Stops the job; cancelling a final job changes nothing and succeeds. */
  cancel(jobId: string): Promise<void>;
  /** The job's output lines, in order per replica. */
  logs(jobId: string, options?: LogOptions): AsyncIterable<JobLogLine>;
}
