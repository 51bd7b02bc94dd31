import { join } from 'node:path';
import {
  type ComputeBackend,
  type ComputeCapacity,
  type ComputeResources,
  FINAL_JOB_STATES,
  type InstanceHealth,
  type JobLogLine,
  JobNotFoundError,
  type JobSpec,
  type JobStatus,
  type JobSummary,
  type ListJobsOptions,
  type LogOptions,
  type SubmitOptions,
  validateIdempotencyKey,
  watchByPolling,
} from '@trellis/plugin-sdk';
import { batchScript } from './batch-script';
import { jobLogLines } from './job-logs';
import { jobStatus } from './job-state';
import type { SlurmClient, SlurmJob, SlurmNode, SlurmSubmission } from './slurm-client';

/** How the nodes run a container image (Apptainer, Singularity, Podman). */
export interface ContainerRuntime {
  /** Runs a command in an image: `["apptainer", "exec"]`; the image and the job's command follow. */
  command: readonly string[];
  /** Put in front of the job's image (`docker://`). */
  imagePrefix: string;
  /** Runs an image's own entrypoint (`["apptainer", "run"]`); the image follows. Without it, a job with an image needs a command. */
  runCommand?: readonly string[];
}

/** What the backend is configured with besides its client. */
export interface SlurmBackendOptions {
  /** The instance's name: the cluster's name in Trellis, for messages. */
  cluster: string;
  /** How the nodes run a job's container image; without it, a job with an image is refused. */
  containerRuntime?: ContainerRuntime;
  /** A directory on a filesystem this host and the nodes share, writable by the jobs' user. */
  workDir: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** Memory of one GPU of each GRES type, which Slurm does not know. */
  gpuMemoryBytes: Readonly<Record<string, number>>;
  /** PATH of jobs that set none. */
  path: string;
  /** How often `watch` and followed `logs` ask Slurm (Slurm pushes nothing). */
  pollIntervalMs: number;
  /** Aborted when the host shuts the instance down: watches and followed logs end. */
  signal: AbortSignal;
}

/** What Trellis keeps in a job's comment: its idempotency key and labels. */
interface Marks {
  key: string;
  labels: Record<string, string>;
}

const COMMENT_PREFIX = 'trellis:';
const LABEL = /^[A-Za-z0-9._-]{1,63}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GPU_TYPE = /^[A-Za-z0-9._-]{1,64}$/;
/** A container image reference: `python:3.12`, `ghcr.io/org/app@sha256:...`, a `.sif` path. */
const IMAGE = /^[^\s\p{Cc}]{1,1024}$/u;
const MAX_REPLICAS = 4096;
/** The longest comment slurmctld takes (a longer one fails the submission). */
const MAX_COMMENT = 1024;
const MIB = 2 ** 20;

/**
 * Jobs as Slurm batch jobs: one job per Trellis job, one task per replica (`--ntasks`), so all
 * replicas are allocated together or not at all. The idempotency key and labels live in the job's
 * comment, which is what `list` and a repeated `submit` read back.
 */
export class SlurmComputeBackend implements ComputeBackend {
  /** Submissions in flight by idempotency key: a second one with the same key waits for the first. */
  private readonly submitting = new Map<string, Promise<{ jobId: string }>>();

  constructor(
    private readonly slurm: SlurmClient,
    private readonly options: SlurmBackendOptions,
  ) {}

  async capacity(): Promise<ComputeCapacity> {
    const nodes = (await this.slurm.nodes()).filter((node) => !this.options.partition || node.partitions.includes(this.options.partition));
    const up = nodes.filter((node) => !/down|drain|fail|unknown|future/.test(node.state) && !node.flags.some((flag) => /DRAIN|DOWN|FAIL/.test(flag)));
    return {
      total: this.sum(nodes, (node) => ({ cpus: node.cpus, memoryMiB: node.memoryMiB, gpus: gpuCounts(node.gres) })),
      available: this.sum(up, (node) => {
        const used = gpuCounts(node.gresUsed);
        const gpus = Object.fromEntries(Object.entries(gpuCounts(node.gres)).map(([type, n]) => [type, Math.max(0, n - (used[type] ?? 0))]));
        return { cpus: node.cpus - node.allocCpus, memoryMiB: node.memoryMiB - node.allocMemoryMiB, gpus };
      }),
    };
  }

  /**
   * Refuses a job with an image when no container runtime is configured, and one with an image but
   * no command when the runtime has no `runCommand` to start the image's own entrypoint.
   */
  whyCannotRun(job: JobSpec): string | undefined {
    if (job.image === undefined) return undefined;
    const runtime = this.options.containerRuntime;
    const what = `job ${JSON.stringify(String(job.name).slice(0, 60))} (image ${String(job.image).slice(0, 100)})`;
    if (!runtime) {
      return `cluster ${this.options.cluster}'s Slurm runs commands; it has no container runtime configured (compute-slurm config containerRuntime): place ${what} on a cluster that runs images, configure containerRuntime, or drop the image and give the command to run`;
    }
    if (!hasCommand(job) && !runtime.runCommand) {
      return `cluster ${this.options.cluster}'s Slurm runs an image only with a command: its container runtime has no runCommand for an image's own entrypoint (compute-slurm config containerRuntime.runCommand, e.g. ["apptainer", "run"]); give ${what} a command, or configure runCommand`;
    }
    return undefined;
  }

  async submit(job: JobSpec, options: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(options.idempotencyKey);
    const submission = this.submission(job, { key: options.idempotencyKey, labels: { ...job.labels } });
    const key = options.idempotencyKey;
    const earlier = this.submitting.get(key);
    if (earlier) return earlier.catch(() => this.submit(job, options));
    const submitting = this.submitOnce(key, submission).finally(() => this.submitting.delete(key));
    this.submitting.set(key, submitting);
    return submitting;
  }

  async status(jobId: string): Promise<JobStatus> {
    return jobStatus(await this.find(jobId));
  }

  async list(options: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(options.labels);
    const summaries: JobSummary[] = [];
    for (const job of await this.slurm.jobs()) {
      const marks = readMarks(job.comment);
      if (marks && wanted.every(([key, value]) => marks.labels[key] === value)) summaries.push({ ...jobStatus(job), labels: marks.labels });
    }
    return summaries;
  }

  async *watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<JobStatus> {
    yield* watchByPolling(() => this.status(jobId), { intervalMs: this.options.pollIntervalMs, signal: this.signalWith(options.signal) });
  }

  async cancel(jobId: string): Promise<void> {
    const job = await this.find(jobId);
    if (FINAL_JOB_STATES.includes(jobStatus(job).state)) return;
    await this.slurm.cancel(jobId);
  }

  async *logs(jobId: string, options: LogOptions = {}): AsyncGenerator<JobLogLine> {
    await this.find(jobId);
    yield* jobLogLines(join(this.options.workDir, jobId), {
      follow: options.follow ?? false,
      pollMs: this.options.pollIntervalMs,
      isFinal: async () => FINAL_JOB_STATES.includes((await this.status(jobId)).state),
      signal: this.signalWith(options.signal),
    });
  }

  async health(): Promise<InstanceHealth> {
    await this.slurm.ping();
    return { ok: true };
  }

  /**
   * Submits unless a job with `key` exists. Two hosts that submit the same key at once may both
   * submit: afterwards each keeps the job with the lowest id and cancels its own if that is another.
   */
  private async submitOnce(key: string, submission: SlurmSubmission): Promise<{ jobId: string }> {
    const existing = await this.jobsWithKey(key);
    if (existing.length > 0) return { jobId: existing[0].id };
    const jobId = await this.slurm.submit(submission);
    const [first] = await this.jobsWithKey(key);
    if (first && first.id !== jobId) {
      await this.slurm.cancel(jobId);
      return { jobId: first.id };
    }
    return { jobId };
  }

  /** Jobs carrying idempotency key `key`, lowest id first. */
  private async jobsWithKey(key: string): Promise<{ id: string }[]> {
    return (await this.slurm.comments()).filter((job) => readMarks(job.comment)?.key === key).sort((a, b) => Number(a.id) - Number(b.id));
  }

  private async find(jobId: string): Promise<SlurmJob> {
    const job = /^\d{1,12}$/.test(jobId) ? await this.slurm.job(jobId) : undefined;
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  /** What Slurm is given for `job`; throws a TypeError naming the field Slurm cannot take. */
  private submission(job: JobSpec, marks: Marks): SlurmSubmission {
    const why = this.whyCannotRun(job);
    if (why !== undefined) throw new TypeError(why);
    const command = this.commandOf(job);
    const replicas = job.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new TypeError(`replicas: an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
    const { cpus, memoryBytes, gpus } = job.resources ?? ({} as JobSpec['resources']);
    if (!(Number.isFinite(cpus) && cpus > 0)) throw new TypeError(`resources.cpus: a number above 0, got ${cpus}`);
    if (!(Number.isFinite(memoryBytes) && memoryBytes > 0)) throw new TypeError(`resources.memoryBytes: a number above 0, got ${memoryBytes}`);
    for (const [name, value] of Object.entries(job.env ?? {})) {
      if (!ENV_NAME.test(name) || typeof value !== 'string' || value.includes('\0')) throw new TypeError(`env: ${JSON.stringify(name.slice(0, 40))} must be a variable name (letters, digits, _) with a string value without NUL`);
    }
    for (const [name, value] of Object.entries(marks.labels)) {
      if (!LABEL.test(name) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
        throw new TypeError(`labels: ${JSON.stringify(name.slice(0, 40))} must be a key of 1 to 63 and a value of at most 63 characters of A-Z a-z 0-9 . _ -`);
      }
    }
    const comment = COMMENT_PREFIX + JSON.stringify(marks);
    if (comment.length > MAX_COMMENT) throw new TypeError(`labels: with the idempotency key they take ${comment.length} characters of the job's comment, where Slurm keeps ${MAX_COMMENT}; use fewer or shorter labels`);
    const cpusPerTask = Math.ceil(cpus);
    const submission: SlurmSubmission = {
      // One word, so that it reads as one in squeue and scontrol.
      name: job.name.replace(/\s+/g, '-').slice(0, 128) || 'trellis-job',
      script: batchScript(this.options.workDir, command, replicas, gpus?.count ?? 0),
      environment: { PATH: this.options.path, ...job.env },
      comment,
      workDir: this.options.workDir,
      output: join(this.options.workDir, 'slurm-%j.out'),
      tasks: replicas,
      cpusPerTask,
      memoryPerCpuMiB: Math.ceil(memoryBytes / MIB / cpusPerTask),
      partition: this.options.partition,
      account: this.options.account,
      qos: this.options.qos,
    };
    if (gpus && gpus.count > 0) submission.gpusPerTask = this.gpusPerTask(gpus);
    return submission;
  }

  /**
   * What each task runs: the job's command, or for a job with an image (which `whyCannotRun` let
   * through) the container runtime's `command` with the image and the job's command, or its
   * `runCommand` with the image.
   */
  private commandOf(job: JobSpec): readonly string[] {
    const runtime = this.options.containerRuntime;
    if (job.image === undefined || !runtime) return checkedCommand(job.command);
    if (typeof job.image !== 'string' || !IMAGE.test(job.image)) throw new TypeError(`image: a container image reference of 1 to 1024 characters without spaces or control characters, got ${JSON.stringify(String(job.image).slice(0, 100))}`);
    const image = runtime.imagePrefix + job.image;
    if (hasCommand(job)) return [...runtime.command, image, ...checkedCommand(job.command)];
    return [...(runtime.runCommand ?? []), image];
  }

  /** `[type:]count` for `--gpus-per-task`: the type asked for, or the smallest configured one with enough memory. */
  private gpusPerTask(gpus: NonNullable<JobSpec['resources']['gpus']>): string {
    if (!Number.isInteger(gpus.count)) throw new TypeError(`resources.gpus.count: a whole number, got ${gpus.count}`);
    if (gpus.type !== undefined) {
      if (!GPU_TYPE.test(gpus.type)) throw new TypeError(`resources.gpus.type: a GRES type of A-Z a-z 0-9 . _ -, got ${JSON.stringify(gpus.type.slice(0, 40))}`);
      return `${gpus.type}:${gpus.count}`;
    }
    if (!gpus.minMemoryBytes) return String(gpus.count);
    const fitting = Object.entries(this.options.gpuMemoryBytes)
      .filter(([, bytes]) => bytes >= (gpus.minMemoryBytes ?? 0))
      .sort(([, a], [, b]) => a - b);
    if (fitting.length === 0) throw new TypeError(`resources.gpus.minMemoryBytes: no GPU type in the config's gpuMemoryBytes has ${gpus.minMemoryBytes} bytes`);
    return `${fitting[0][0]}:${gpus.count}`;
  }

  private sum(nodes: SlurmNode[], of: (node: SlurmNode) => { cpus: number; memoryMiB: number; gpus: Record<string, number> }): ComputeResources {
    const total = { cpus: 0, memoryBytes: 0, gpus: {} as Record<string, { count: number; memoryBytes: number }> };
    for (const node of nodes) {
      const part = of(node);
      total.cpus += part.cpus;
      total.memoryBytes += part.memoryMiB * MIB;
      for (const [type, count] of Object.entries(part.gpus)) {
        const memoryBytes = this.options.gpuMemoryBytes[type];
        if (!memoryBytes) throw new Error(`node ${node.name} has GPUs of GRES type ${type}, which the config's gpuMemoryBytes does not name: add gpuMemoryBytes.${type} (the memory of one such GPU, in bytes)`);
        total.gpus[type] = { count: (total.gpus[type]?.count ?? 0) + count, memoryBytes };
      }
    }
    return total;
  }

  private signalWith(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.options.signal]) : this.options.signal;
  }
}

/** Whether the job names a command (a job with an image may leave it out, or empty, to run the image's entrypoint). */
function hasCommand(job: JobSpec): boolean {
  return job.command !== undefined && job.command.length > 0;
}

function checkedCommand(command: unknown): readonly string[] {
  if (!Array.isArray(command) || command.length === 0 || !command.every((word) => typeof word === 'string' && !word.includes('\0'))) {
    throw new TypeError('command: give the program and its arguments as a non-empty list of strings without NUL characters');
  }
  return command;
}

/** GPUs by type in a GRES string (`gpu:tesla:2,gpu:a100:4(S:0-1)`, `gpu:tesla:1(IDX:0)`); an untyped `gpu:2` is of type `gpu`. */
function gpuCounts(gres: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of gres.split(/,(?![^(]*\))/)) {
    const match = /^gpu(?::([^:(]+))?:(\d+)/.exec(entry.trim());
    if (match) counts[match[1] ?? 'gpu'] = (counts[match[1] ?? 'gpu'] ?? 0) + Number(match[2]);
  }
  return counts;
}

function readMarks(comment: string): Marks | undefined {
  if (!comment.startsWith(COMMENT_PREFIX)) return undefined;
  try {
    const marks = JSON.parse(comment.slice(COMMENT_PREFIX.length)) as Partial<Marks>;
    return typeof marks.key === 'string' && typeof marks.labels === 'object' && marks.labels !== null ? { key: marks.key, labels: marks.labels } : undefined;
  } catch {
    return undefined;
  }
}
