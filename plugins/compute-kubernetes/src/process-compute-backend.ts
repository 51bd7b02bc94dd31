import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants, cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
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

/** Where the jobs run, and what of the host's environment they get. */
export interface ProcessComputeOptions {
  workDir: string;
  passEnv: readonly string[];
}

/** A promise that settles at the next change of a job, made anew at each change. */
class Changes {
  next!: Promise<void>;
  private wake!: () => void;

  constructor() {
    this.renew();
  }

  notify(): void {
    const wake = this.wake;
    this.renew();
    wake();
  }

  private renew(): void {
    this.next = new Promise((resolve) => (this.wake = resolve));
  }
}

/** One job: its status, labels, output so far and processes. */
interface ProcessJob {
  status: JobStatus;
  labels: Readonly<Record<string, string>>;
  lines: JobLogLine[];
  children: ChildProcess[];
  changes: Changes;
}

/**
 * Runs each job as child processes of the Trellis process, one per replica, and remembers jobs
 * and idempotency keys in memory: a restart forgets them. A backend for a cluster asks its
 * scheduler instead (job labels in a Slurm comment or Kubernetes labels), so that `list` finds
 * jobs after a restart.
 */
export class ProcessComputeBackend implements ComputeBackend {
  private readonly jobs = new Map<string, ProcessJob>();
  private readonly byKey = new Map<string, string>();

  constructor(private readonly options: ProcessComputeOptions) {}

  async capacity(): Promise<ComputeCapacity> {
    return { total: { cpus: cpus().length, memoryBytes: totalmem(), gpus: {} } };
  }

  async submit(spec: JobSpec, { idempotencyKey }: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(idempotencyKey);
    const known = this.byKey.get(idempotencyKey);
    if (known !== undefined) return { jobId: known };
    const [program, ...args] = this.checked(spec);
    const jobId = randomUUID();
    const job: ProcessJob = { status: { jobId, state: 'pending' }, labels: { ...spec.labels }, lines: [], children: [], changes: new Changes() };
    this.jobs.set(jobId, job);
    this.byKey.set(idempotencyKey, jobId);
    const replicas = Array.from({ length: spec.replicas ?? 1 }, (_, replica) => this.start(job, replica, program, args, spec.env ?? {}));
    void Promise.all(replicas).then((codes) => {
      const failed = codes.find((code) => code !== 0);
      if (failed === undefined) this.settle(job, { state: 'succeeded', exitCode: 0 });
      else this.settle(job, { state: 'failed', exitCode: failed, message: `a replica exited with ${failed}` });
    });
    return { jobId };
  }

  async status(jobId: string): Promise<JobStatus> {
    return { ...this.job(jobId).status };
  }

  async list({ labels }: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(labels);
    return [...this.jobs.values()].filter((job) => wanted.every(([key, value]) => job.labels[key] === value)).map((job) => ({ ...job.status, labels: { ...job.labels } }));
  }

  async *watch(jobId: string, { signal }: { signal?: AbortSignal } = {}): AsyncIterable<JobStatus> {
    const job = this.job(jobId);
    let last: string | undefined;
    while (!signal?.aborted) {
      const next = job.changes.next;
      const status = { ...job.status };
      if (status.state !== last) {
        last = status.state;
        yield status;
        // The state it yielded, not the job's now: a change made meanwhile is yielded next.
        if (FINAL_JOB_STATES.includes(status.state)) return;
      }
      await untilAborted(next, signal);
    }
  }

  async cancel(jobId: string): Promise<void> {
    const job = this.job(jobId);
    if (isFinal(job)) return;
    this.settle(job, { state: 'cancelled', message: 'cancelled' });
    for (const child of job.children) child.kill('SIGTERM');
  }

  async *logs(jobId: string, { follow = false, signal }: LogOptions = {}): AsyncIterable<JobLogLine> {
    const job = this.job(jobId);
    let sent = 0;
    for (;;) {
      const next = job.changes.next;
      while (sent < job.lines.length) yield { ...job.lines[sent++] };
      if (!follow || isFinal(job) || signal?.aborted) return;
      await untilAborted(next, signal);
    }
  }

  /** Stops every job that is still running. */
  async close(): Promise<void> {
    for (const [jobId, job] of this.jobs) if (!isFinal(job)) await this.cancel(jobId);
  }

  private job(jobId: string): ProcessJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  /** The job's command, once the job is one this backend can run; a TypeError naming the field otherwise. */
  private checked(spec: JobSpec): readonly string[] {
    if (spec.image !== undefined) throw new TypeError(`job "${spec.name}": image ${spec.image} cannot run here; this backend runs a command as a local process`);
    if (!Array.isArray(spec.command) || spec.command.length === 0) throw new TypeError(`job "${spec.name}": command must name the program to run`);
    const cores = cpus().length;
    if (spec.resources.cpus > cores) throw new TypeError(`job "${spec.name}": resources.cpus is ${spec.resources.cpus}, and this host has ${cores}`);
    if (spec.resources.memoryBytes > totalmem()) throw new TypeError(`job "${spec.name}": resources.memoryBytes is ${spec.resources.memoryBytes}, and this host has ${totalmem()}`);
    if ((spec.resources.gpus?.count ?? 0) > 0) throw new TypeError(`job "${spec.name}": resources.gpus asks for GPUs, and this backend gives none`);
    return spec.command;
  }

  /** Starts one replica; resolves with its exit code (128 + the signal's number when a signal ended it). */
  private start(job: ProcessJob, replica: number, program: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
    const passed = Object.fromEntries(this.options.passEnv.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name] as string]));
    const child = spawn(program, args, { cwd: resolve(this.options.workDir), env: { ...passed, ...env, TRELLIS_REPLICA_INDEX: String(replica) }, stdio: ['ignore', 'pipe', 'pipe'] });
    job.children.push(child);
    const out = this.lineWriter(job, replica, 'stdout');
    const err = this.lineWriter(job, replica, 'stderr');
    child.stdout?.setEncoding('utf8').on('data', out.write);
    child.stderr?.setEncoding('utf8').on('data', err.write);
    child.once('spawn', () => {
      if (job.status.state === 'pending') this.update(job, { state: 'running', startedAt: new Date() });
    });
    return new Promise((done) => {
      child.once('error', (error) => {
        err.line(`cannot start ${program}: ${error.message}`);
        done(127);
      });
      child.once('close', (code, signal) => {
        out.end();
        err.end();
        done(code ?? 128 + (signal ? constants.signals[signal] : 0));
      });
    });
  }

  /** Splits a stream's chunks into the job's log lines; `end` keeps a last line without a newline. */
  private lineWriter(job: ProcessJob, replica: number, stream: 'stdout' | 'stderr') {
    let partial = '';
    const line = (text: string) => {
      if (isFinal(job)) return;
      job.lines.push({ time: new Date(), stream, replica, line: text });
      job.changes.notify();
    };
    return {
      line,
      write: (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        parts.forEach(line);
      },
      end: () => {
        if (partial !== '') line(partial);
        partial = '';
      },
    };
  }

  private settle(job: ProcessJob, change: Partial<JobStatus>): void {
    if (!isFinal(job)) this.update(job, { ...change, finishedAt: new Date() });
  }

  private update(job: ProcessJob, change: Partial<JobStatus>): void {
    job.status = { ...job.status, ...change };
    job.changes.notify();
  }
}

function isFinal(job: ProcessJob): boolean {
  return FINAL_JOB_STATES.includes(job.status.state);
}

/** Resolves when `change` does or `signal` aborts, whichever is first. */
function untilAborted(change: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return change;
  return new Promise((resolve) => {
    const stop = () => resolve();
    signal.addEventListener('abort', stop, { once: true });
    void change.then(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    });
  });
}
