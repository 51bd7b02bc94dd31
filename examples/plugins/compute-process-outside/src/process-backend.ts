import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import {
  type ComputeBackend,
  type ComputeCapacity,
  FINAL_JOB_STATES,
  type JobLogLine,
  JobNotFoundError,
  type JobSpec,
  type JobStatus,
  type JobSummary,
  type ListJobsOptions,
  type LogOptions,
  type SubmitOptions,
  validateIdempotencyKey,
} from '@trellis/plugin-sdk';

interface Job {
  status: JobStatus;
  spec: JobSpec;
  labels: Readonly<Record<string, string>>;
  processes: ChildProcess[];
  lines: JobLogLine[];
  cancelled: boolean;
  /** Called, then cleared, whenever the status changes or a line arrives. */
  waiters: Set<() => void>;
}

/**
 * The compute contract (v1) with local processes: each replica of a job is one process of
 * `command`, with the job's `env` and `TRELLIS_REPLICA_INDEX`. Jobs are held in memory, so a
 * restarted instance knows none of them; a backend that outlives its host process keeps them in the
 * scheduler instead.
 */
export class ProcessBackend implements ComputeBackend {
  private readonly jobs = new Map<string, Job>();
  private readonly byKey = new Map<string, string>();

  constructor(
    private readonly workDir: string,
    private readonly killAfterMs: number,
  ) {}

  async capacity(): Promise<ComputeCapacity> {
    const cpus = availableParallelism();
    const busy = [...this.jobs.values()].filter((job) => job.status.state === 'running').reduce((sum, job) => sum + job.spec.resources.cpus * (job.spec.replicas ?? 1), 0);
    return { total: { cpus, memoryBytes: totalmem(), gpus: {} }, available: { cpus: Math.max(0, cpus - busy), memoryBytes: totalmem(), gpus: {} } };
  }

  async submit(spec: JobSpec, options: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(options.idempotencyKey);
    const known = this.byKey.get(options.idempotencyKey);
    if (known !== undefined) return { jobId: known };
    if (spec.image !== undefined) throw new TypeError(`image: this backend runs commands, not container images (got ${spec.image}); give command instead`);
    if (spec.command.length === 0) throw new TypeError('command must name a program to run');
    const replicas = spec.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) throw new TypeError(`replicas must be an integer of at least 1, got ${replicas}`);

    const jobId = randomUUID();
    const job: Job = { status: { jobId, state: 'pending' }, spec, labels: { ...spec.labels }, processes: [], lines: [], cancelled: false, waiters: new Set() };
    this.jobs.set(jobId, job);
    this.byKey.set(options.idempotencyKey, jobId);
    // Started on the next turn, so that a watch begun now sees the job pending first.
    setImmediate(() => this.start(job, replicas));
    return { jobId };
  }

  async status(jobId: string): Promise<JobStatus> {
    return { ...this.job(jobId).status };
  }

  async list(options: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(options.labels);
    return [...this.jobs.values()].filter((job) => wanted.every(([key, value]) => job.labels[key] === value)).map((job) => ({ ...job.status, labels: job.labels }));
  }

  async *watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncIterable<JobStatus> {
    const job = this.job(jobId);
    let last = { ...job.status };
    yield last;
    // The state is compared again before every wait: it may have changed while the consumer held the last one.
    while (!isFinal(last)) {
      if (job.status.state === last.state) {
        await changed(job, options.signal);
        if (options.signal?.aborted) return;
        continue;
      }
      last = { ...job.status };
      yield last;
    }
  }

  async cancel(jobId: string): Promise<void> {
    const job = this.job(jobId);
    if (isFinal(job.status)) return;
    job.cancelled = true;
    if (job.processes.length === 0) {
      this.finish(job, { state: 'cancelled', message: 'cancelled before it started' });
      return;
    }
    for (const child of job.processes) stop(child, this.killAfterMs);
  }

  async *logs(jobId: string, options: LogOptions = {}): AsyncIterable<JobLogLine> {
    const job = this.job(jobId);
    let next = 0;
    for (;;) {
      while (next < job.lines.length) yield job.lines[next++] as JobLogLine;
      if (!options.follow || isFinal(job.status) || options.signal?.aborted) return;
      await changed(job, options.signal);
    }
  }

  close(): void {
    for (const job of this.jobs.values()) for (const child of job.processes) stop(child, 0);
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  private start(job: Job, replicas: number): void {
    if (job.cancelled) return;
    const [program, ...args] = job.spec.command as readonly [string, ...string[]];
    let running = replicas;
    let firstFailure: number | undefined;
    for (let replica = 0; replica < replicas; replica++) {
      const child = spawn(program, args, { cwd: this.workDir, env: { ...process.env, ...job.spec.env, TRELLIS_REPLICA_INDEX: String(replica) }, stdio: ['ignore', 'pipe', 'pipe'] });
      job.processes.push(child);
      for (const stream of ['stdout', 'stderr'] as const) {
        createInterface({ input: child[stream] }).on('line', (line) => {
          job.lines.push({ time: new Date(), stream, replica, line });
          notify(job);
        });
      }
      child.on('error', (error) => job.lines.push({ time: new Date(), stream: 'stderr', replica, line: `could not start ${program}: ${error.message}` }));
      child.on('close', (code) => {
        if (code !== 0 && firstFailure === undefined) firstFailure = code ?? 1;
        if (--running > 0) return;
        if (job.cancelled) this.finish(job, { state: 'cancelled' });
        else if (firstFailure === undefined) this.finish(job, { state: 'succeeded', exitCode: 0 });
        else this.finish(job, { state: 'failed', exitCode: firstFailure, message: `a replica exited with code ${firstFailure}` });
      });
    }
    job.status = { ...job.status, state: 'running', startedAt: new Date() };
    notify(job);
  }

  private finish(job: Job, final: Pick<JobStatus, 'state'> & Partial<Pick<JobStatus, 'exitCode' | 'message'>>): void {
    job.status = { ...job.status, ...final, finishedAt: new Date() };
    notify(job);
  }
}

function isFinal(status: JobStatus): boolean {
  return FINAL_JOB_STATES.includes(status.state);
}

function notify(job: Job): void {
  const waiters = [...job.waiters];
  job.waiters.clear();
  for (const wake of waiters) wake();
}

/** Resolves at the job's next change, or when `signal` aborts. */
function changed(job: Job, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const wake = () => {
      signal?.removeEventListener('abort', wake);
      job.waiters.delete(wake);
      resolve();
    };
    job.waiters.add(wake);
    signal?.addEventListener('abort', wake, { once: true });
  });
}

function stop(child: ChildProcess, killAfterMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(killAfterMs === 0 ? 'SIGKILL' : 'SIGTERM');
  if (killAfterMs > 0) setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), killAfterMs).unref();
}
