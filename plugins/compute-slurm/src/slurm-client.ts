// What the backend needs of Slurm, whichever way it talks to it (slurmrestd or the commands).
// squeue/sinfo --json and slurmrestd both answer in OpenAPI v0.0.38's shape, read here once.

/** A job as Slurm reports it. */
export interface SlurmJob {
  id: string;
  /** `job_state`: a base state (PENDING, COMPLETED...) or a flag state that wins over it (COMPLETING, CONFIGURING). */
  state: string;
  /** `state_reason` (`Resources`, `Priority`, `NonZeroExitCode`; `None` when there is none). */
  reason: string;
  description: string;
  /** The wait status of the batch script (exit code << 8 | signal), once there is one. */
  waitStatus?: number;
  comment: string;
  /** Epoch seconds; 0 when not set. For a pending job `startTime` is Slurm's estimate. */
  startTime: number;
  endTime: number;
}

/** A node as Slurm reports it. */
export interface SlurmNode {
  name: string;
  cpus: number;
  allocCpus: number;
  memoryMiB: number;
  allocMemoryMiB: number;
  /** `gpu:tesla:2,...`: the node's generic resources. */
  gres: string;
  /** `gpu:tesla:1(IDX:0)`: those in use. */
  gresUsed: string;
  /** `idle`, `mixed`, `allocated`, `down`... */
  state: string;
  flags: string[];
  partitions: string[];
}

/** One batch job to submit: a script and the options of `sbatch`. */
export interface SlurmSubmission {
  name: string;
  script: string;
  /** The whole environment of the job. */
  environment: Record<string, string>;
  comment: string;
  /** The working directory, and the batch script's own output file (`%j` is the job id). */
  workDir: string;
  output: string;
  tasks: number;
  cpusPerTask: number;
  memoryPerCpuMiB: number;
  /** `[type:]count` of GPUs per task. */
  gpusPerTask?: string;
  partition?: string;
  account?: string;
  qos?: string;
}

/** Slurm through slurmrestd or through its commands. */
export interface SlurmClient {
  /** Returns the new job's id; throws `SlurmError` with Slurm's words when Slurm refuses the job. */
  submit(submission: SlurmSubmission): Promise<string>;
  /** The job, or undefined when slurmctld does not know it (never did, or forgot it after MinJobAge). */
  job(id: string): Promise<SlurmJob | undefined>;
  /** Every job slurmctld knows. */
  jobs(): Promise<SlurmJob[]>;
  /** The id and comment of every job slurmctld knows: what an idempotency key is looked up in. */
  comments(): Promise<{ id: string; comment: string }[]>;
  cancel(id: string): Promise<void>;
  nodes(): Promise<SlurmNode[]>;
  /** Resolves when slurmctld answers, throws saying why not. */
  ping(): Promise<void>;
}

/** Slurm refused a request or could not be reached; the message has Slurm's own words. */
export class SlurmError extends Error {
  override readonly name = 'SlurmError';
}

type Fields = Record<string, unknown>;

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** A v0.0.38 job record. */
export function readJob(record: Fields): SlurmJob {
  return {
    id: String(record['job_id']),
    state: text(record['job_state']),
    reason: text(record['state_reason']),
    description: text(record['state_description']),
    waitStatus: typeof record['exit_code'] === 'number' ? record['exit_code'] : undefined,
    comment: text(record['comment']),
    startTime: count(record['start_time']),
    endTime: count(record['end_time']),
  };
}

/** A v0.0.38 node record. */
export function readNode(record: Fields): SlurmNode {
  return {
    name: text(record['name']),
    cpus: count(record['cpus']),
    allocCpus: count(record['alloc_cpus']),
    memoryMiB: count(record['real_memory']),
    allocMemoryMiB: count(record['alloc_memory']),
    gres: text(record['gres']),
    gresUsed: text(record['gres_used']),
    state: text(record['state']).toLowerCase(),
    flags: Array.isArray(record['state_flags']) ? record['state_flags'].map(String) : [],
    partitions: Array.isArray(record['partitions']) ? record['partitions'].map(String) : [],
  };
}

/** The `errors[]` of a v0.0.38 answer as one sentence, or undefined when there are none. */
export function errorsOf(answer: Fields): string | undefined {
  const errors = Array.isArray(answer['errors']) ? (answer['errors'] as Fields[]) : [];
  if (errors.length === 0) return undefined;
  return errors.map((error) => [text(error['error']), text(error['description'])].filter(Boolean).join(': ')).join('; ');
}

/** The records of a list in an answer (`jobs`, `nodes`). */
export function recordsOf(answer: Fields, key: string): Fields[] {
  return Array.isArray(answer[key]) ? (answer[key] as Fields[]) : [];
}
