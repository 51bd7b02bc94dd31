import { randomUUID } from 'node:crypto';
import {
  type ComputeBackend,
  type ComputeCapacity,
  FINAL_JOB_STATES,
  type JobLogLine,
  type JobSpec,
  type JobState,
  type JobStatus,
  type JobSummary,
  type ListJobsOptions,
  type LogOptions,
  type SubmitOptions,
  validateIdempotencyKey,
} from '../contracts';
import { JobNotFoundError } from '../errors';

/** What a program of a `MemoryComputeBackend` job gets: where to write, which replica it is, and when to stop. */
export interface JobProgramIo {
  /** Writes a line to the job's stdout. */
  stdout(line: string): void;
  /** Writes a line to the job's stderr. */
  stderr(line: string): void;
  /** The replica running it, from 0. */
  readonly replica: number;
  /** The job's environment (`JobSpec.env` and `TRELLIS_REPLICA_INDEX`). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted when the job is cancelled or the backend closes. */
  readonly signal: AbortSignal;
}

/** A program a job's `command[0]` names: runs with the rest of the command as arguments, returns the exit code. */
export type JobProgram = (args: readonly string[], io: JobProgramIo) => Promise<number> | number;

/**
 * The programs every `MemoryComputeBackend` knows: `echo <words...>` (writes them as one line to
 * stdout, exits 0), `exit <code>` (writes its code to stderr and exits with it) and `sleep
 * <seconds>` (waits that long, or until cancelled).
 */
export const MEMORY_JOB_PROGRAMS: Readonly<Record<string, JobProgram>> = Object.freeze({
  echo: (args: readonly string[], io: JobProgramIo) => {
    io.stdout(args.join(' '));
    return 0;
  },
  exit: (args: readonly string[], io: JobProgramIo) => {
    io.stderr(`exiting with ${args[0]}`);
    return Number(args[0]);
  },
  sleep: (args: readonly string[], io: JobProgramIo) =>
    new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(0), Number(args[0]) * 1000);
      io.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(143);
      });
    }),
});

/** Options of a `MemoryComputeBackend`. */
export interface MemoryComputeOptions {
  /** What `capacity()` reports, and what a job's resources are checked against; 8 CPUs, 32 GiB and no GPUs by default. */
  capacity?: ComputeCapacity;
  /** Programs besides `MEMORY_JOB_PROGRAMS` (same name: this one wins). */
  programs?: Readonly<Record<string, JobProgram>>;
}

interface MemoryJob {
  status: JobStatus;
  labels: Readonly<Record<string, string>>;
  lines: JobLogLine[];
  controller: AbortController;
  listeners: Set<() => void>;
}

const GiB = 1024 ** 3;

/**
 * The compute contract in memory, for specs: a job's `command[0]` names a program (a function; see
 * `MEMORY_JOB_PROGRAMS`) that runs in this process, once per replica, a turn of the event loop
 * after `submit`. It passes `describeComputeConformance`. Container images are refused: nothing
 * here can run one.
 */
export class MemoryComputeBackend implements ComputeBackend {
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly byIdempotencyKey = new Map<string, string>();
  private readonly programs: Readonly<Record<string, JobProgram>>;
  private readonly total: ComputeCapacity;

  constructor(options: MemoryComputeOptions = {}) {
    this.total = options.capacity ?? { total: { cpus: 8, memoryBytes: 32 * GiB, gpus: {} } };
    this.programs = { ...MEMORY_JOB_PROGRAMS, ...options.programs };
  }

  async capacity(): Promise<ComputeCapacity> {
    return structuredClone(this.total);
  }

  /** Refuses a container image, and a command whose `command[0]` is not one of its programs. */
  whyCannotRun(job: JobSpec): string | undefined {
    if (job.image !== undefined) return `MemoryComputeBackend runs commands, not container images; job "${job.name}" names image ${job.image}`;
    const name = job.command[0];
    if (!Object.hasOwn(this.programs, name)) return `job "${job.name}": command ${JSON.stringify(name)} is not a program of this backend (it has ${Object.keys(this.programs).join(', ')})`;
    return undefined;
  }

  async submit(job: JobSpec, options: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(options?.idempotencyKey);
    const existing = this.byIdempotencyKey.get(options.idempotencyKey);
    if (existing !== undefined) return { jobId: existing };
    const why = this.whyCannotRun(job);
    if (why !== undefined) throw new TypeError(why);
    const program = this.programs[job.command?.[0] as string];
    this.checkResources(job);
    const jobId = randomUUID();
    const entry: MemoryJob = {
      status: { jobId, state: 'pending' },
      labels: { ...job.labels },
      lines: [],
      controller: new AbortController(),
      listeners: new Set(),
    };
    this.jobs.set(jobId, entry);
    this.byIdempotencyKey.set(options.idempotencyKey, jobId);
    setImmediate(() => void this.run(entry, job, program));
    return { jobId };
  }

  async status(jobId: string): Promise<JobStatus> {
    return { ...this.job(jobId).status };
  }

  async list(options: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(options?.labels ?? {});
    return [...this.jobs.values()]
      .filter((job) => wanted.every(([key, value]) => job.labels[key] === value))
      .map((job) => ({ ...job.status, labels: { ...job.labels } }));
  }

  async *watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncIterable<JobStatus> {
    const job = this.job(jobId);
    let last: JobState | undefined;
    for await (const status of this.changes(job, () => job.status, options.signal)) {
      if (status.state === last) continue;
      last = status.state;
      yield { ...status };
      if (isFinal(status.state)) return;
    }
  }

  async cancel(jobId: string): Promise<void> {
    const job = this.job(jobId);
    if (isFinal(job.status.state)) return;
    this.settle(job, 'cancelled', { message: 'cancelled' });
    job.controller.abort();
  }

  async *logs(jobId: string, options: LogOptions = {}): AsyncIterable<JobLogLine> {
    const job = this.job(jobId);
    let sent = 0;
    const snapshot = () => ({ lines: job.lines.slice(sent), final: isFinal(job.status.state) });
    const source = options.follow ? this.changes(job, snapshot, options.signal) : [snapshot()];
    for await (const { lines, final } of source) {
      for (const line of lines) yield { ...line };
      sent += lines.length;
      if (final || !options.follow) return;
    }
  }

  /** Cancels every job that is not final. */
  async close(): Promise<void> {
    for (const [jobId, job] of this.jobs) if (!isFinal(job.status.state)) await this.cancel(jobId);
  }

  private job(jobId: string): MemoryJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  private checkResources(job: JobSpec): void {
    const { cpus, memoryBytes, gpus } = this.total.total;
    const wanted = job.resources;
    if (wanted.cpus > cpus) throw new TypeError(`job "${job.name}": resources.cpus is ${wanted.cpus}, and this backend has ${cpus}`);
    if (wanted.memoryBytes > memoryBytes) throw new TypeError(`job "${job.name}": resources.memoryBytes is ${wanted.memoryBytes}, and this backend has ${memoryBytes}`);
    if (!wanted.gpus || wanted.gpus.count === 0) return;
    const { count, type, minMemoryBytes = 0 } = wanted.gpus;
    const fitting = Object.entries(gpus).filter(([name, pool]) => (type === undefined || name === type) && pool.memoryBytes >= minMemoryBytes && pool.count >= count);
    if (fitting.length === 0) {
      throw new TypeError(`job "${job.name}": resources.gpus asks for ${count} GPU(s)${type ? ` of type ${type}` : ''}${minMemoryBytes ? ` with ${minMemoryBytes} bytes each` : ''}, which this backend does not have`);
    }
  }

  private async run(job: MemoryJob, spec: JobSpec, program: JobProgram): Promise<void> {
    if (isFinal(job.status.state)) return;
    this.update(job, { state: 'running', startedAt: new Date() });
    const replicas = spec.replicas ?? 1;
    const codes = await Promise.all(
      Array.from({ length: replicas }, async (_, replica) => {
        const write = (stream: 'stdout' | 'stderr') => (line: string) => {
          if (!isFinal(job.status.state)) this.log(job, { time: new Date(), stream, replica, line });
        };
        const io: JobProgramIo = {
          stdout: write('stdout'),
          stderr: write('stderr'),
          replica,
          env: { ...spec.env, TRELLIS_REPLICA_INDEX: String(replica) },
          signal: job.controller.signal,
        };
        try {
          return await program(spec.command?.slice(1) ?? [], io);
        } catch (err) {
          io.stderr(String(err instanceof Error ? err.message : err));
          return 1;
        }
      }),
    );
    if (isFinal(job.status.state)) return;
    const failed = codes.find((code) => code !== 0);
    if (failed === undefined) this.settle(job, 'succeeded', { exitCode: 0 });
    else this.settle(job, 'failed', { exitCode: failed, message: `a replica exited with ${failed}` });
  }

  private settle(job: MemoryJob, state: JobState, details: Partial<JobStatus>): void {
    this.update(job, { ...details, state, finishedAt: new Date() });
  }

  private update(job: MemoryJob, change: Partial<JobStatus>): void {
    job.status = { ...job.status, ...change };
    for (const listener of job.listeners) listener();
  }

  private log(job: MemoryJob, line: JobLogLine): void {
    job.lines.push(line);
    for (const listener of job.listeners) listener();
  }

  /** `read()` now and after each change of the job, until `signal` aborts; the caller ends it sooner by returning. */
  private async *changes<T>(job: MemoryJob, read: () => T, signal?: AbortSignal): AsyncGenerator<T> {
    let wake: (() => void) | undefined;
    let changed = true;
    const listener = () => {
      changed = true;
      wake?.();
    };
    const onAbort = () => wake?.();
    job.listeners.add(listener);
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (!changed) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        changed = false;
        yield read();
      }
    } finally {
      job.listeners.delete(listener);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function isFinal(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state);
}
