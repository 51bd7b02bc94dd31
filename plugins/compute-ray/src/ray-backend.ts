import { createHash } from 'node:crypto';
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
  pause,
  type SubmitOptions,
  validateIdempotencyKey,
  watchByPolling,
} from '@trellis/plugin-sdk';
import { GANG_DRIVER, GANG_VARIABLE, type Gang, logLine } from './gang-driver';
import { jobStatus } from './job-state';
import { DuplicateSubmissionError, type RayJobDetails, type RayJobsClient, type RayNode, type RaySubmitRequest } from './ray-jobs-client';

/** What the backend is configured with besides its client. */
export interface RayBackendOptions {
  /** Whether jobs with a container image may run (`runtime_env.image_uri`). */
  allowImages: boolean;
  /** The cluster's resources when given in the config; else the state API's node list is asked. */
  capacity?: ComputeResources;
  /** Memory of one GPU of each accelerator type, which Ray does not know. */
  gpuMemoryBytes: Readonly<Record<string, number>>;
  /** The Python that runs the driver of a job of several replicas. */
  python: string;
  /** How often `watch` and followed `logs` ask Ray (the REST API pushes nothing). */
  pollIntervalMs: number;
  /** Aborted when the host shuts the instance down: watches and followed logs end. */
  signal: AbortSignal;
}

/** Submission ids of Trellis jobs start with this: `list` looks at these only. */
const SUBMISSION_PREFIX = 'trellis-';
const LABEL = /^[A-Za-z0-9._-]{1,63}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GPU_TYPE = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_REPLICAS = 4096;
/** The type of GPUs on a node that has no `accelerator_type:<type>` resource. */
const UNTYPED_GPU = 'gpu';
/** What Ray reserves besides the resources a job asks for, so that the accelerator type is a constraint, not a count (Ray's own `accelerator_type` option does the same). */
const ACCELERATOR_SHARE = 0.001;

/**
 * Jobs as Ray jobs through the dashboard's Jobs REST API. The submission id is made from the
 * idempotency key, so Ray itself refuses a second job with the key; labels are the job's metadata.
 * One replica runs the job's command as the entrypoint, with the replica's resources as the
 * entrypoint's; several run under a driver that reserves them all at once (see `GANG_DRIVER`).
 */
export class RayComputeBackend implements ComputeBackend {
  constructor(
    private readonly ray: RayJobsClient,
    private readonly options: RayBackendOptions,
  ) {}

  async capacity(): Promise<ComputeCapacity> {
    if (this.options.capacity) return { total: this.options.capacity };
    const nodes = await this.ray.nodes();
    if (!nodes) throw new Error("this Ray dashboard does not serve the state API (GET /api/v0/nodes answered 404): give the cluster's resources in the config's capacity");
    return { total: this.sum(nodes.filter((node) => node.state === 'ALIVE')) };
  }

  /**
   * Why this instance cannot run `job`, or undefined when it can: a container image needs
   * `allowImages` (and a command: Ray runs the entrypoint it is given, not the image's own).
   */
  whyCannotRun(job: JobSpec): string | undefined {
    if (job.image === undefined) return undefined;
    if (!this.options.allowImages) return `compute-ray runs commands on the Ray cluster's nodes; this instance does not run container images (its config's allowImages is false), so image ${job.image} cannot run here`;
    if (!job.command || job.command.length === 0) return `compute-ray runs a job's command in its image (Ray starts the entrypoint it is given, not the image's own): give a command for image ${job.image}`;
    return undefined;
  }

  async submit(job: JobSpec, options: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(options.idempotencyKey);
    const request = this.request(job, SUBMISSION_PREFIX + options.idempotencyKey);
    if (await this.ray.job(request.submission_id)) return { jobId: request.submission_id };
    try {
      return { jobId: await this.ray.submit(request) };
    } catch (error) {
      // Another submission with the key got there first: Ray keeps that one, which is the answer.
      if (error instanceof DuplicateSubmissionError) return { jobId: request.submission_id };
      throw error;
    }
  }

  async status(jobId: string): Promise<JobStatus> {
    return jobStatus(await this.find(jobId));
  }

  async list(options: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(options.labels);
    return (await this.ray.jobs())
      .filter((job) => job.type === 'SUBMISSION' && job.submission_id?.startsWith(SUBMISSION_PREFIX))
      .map((job) => ({ job, labels: job.metadata ?? {} }))
      .filter(({ labels }) => wanted.every(([key, value]) => labels[key] === value))
      .map(({ job, labels }) => ({ ...jobStatus(job), labels }));
  }

  async *watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<JobStatus> {
    yield* watchByPolling(() => this.status(jobId), { intervalMs: this.options.pollIntervalMs, signal: this.signalWith(options.signal) });
  }

  async cancel(jobId: string): Promise<void> {
    const job = await this.find(jobId);
    if (FINAL_JOB_STATES.includes(jobStatus(job).state)) return;
    if ((await this.ray.stop(jobId)) === undefined) throw new JobNotFoundError(jobId);
  }

  /**
   * The job's log, read whole from `GET /api/jobs/<id>/logs`; with `follow`, read again every
   * `pollIntervalMs` and only the lines after those given so far yielded, until the job is final.
   * Not the WebSocket tail: Node 20 has no WebSocket client, and a tail that drops says neither
   * whether the job ended nor where to resume, which the same poll as `watch` does.
   */
  async *logs(jobId: string, options: LogOptions = {}): AsyncGenerator<JobLogLine> {
    const gang = isGang(await this.find(jobId));
    const signal = this.signalWith(options.signal);
    let given = 0;
    for (;;) {
      const final = !options.follow || FINAL_JOB_STATES.includes((await this.status(jobId)).state);
      const text = (await this.ray.logs(jobId)) ?? '';
      const time = new Date();
      // A line is given once its newline is there; the last one without one only at the end.
      const end = final ? text.length : text.lastIndexOf('\n') + 1;
      if (end > given) {
        const lines = text.slice(given, end).replace(/\n$/, '').split('\n');
        given = end;
        for (const line of lines) yield logLine(line, gang, time);
      }
      if (final || signal.aborted) return;
      await pause(this.options.pollIntervalMs, signal);
      if (signal.aborted) return;
    }
  }

  async health(): Promise<InstanceHealth> {
    await this.ray.version();
    return { ok: true };
  }

  private async find(jobId: string): Promise<RayJobDetails> {
    const job = jobId.startsWith(SUBMISSION_PREFIX) ? await this.ray.job(jobId) : undefined;
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  /** What Ray is given for `job`; throws a TypeError naming the field Ray cannot take. */
  private request(job: JobSpec, submissionId: string): RaySubmitRequest {
    const refused = this.whyCannotRun(job);
    if (refused) throw new TypeError(`image: ${refused}`);
    if (!Array.isArray(job.command) || job.command.length === 0 || !job.command.every((word) => typeof word === 'string' && !word.includes('\0'))) {
      throw new TypeError('command: give the program and its arguments as a non-empty list of strings without NUL characters');
    }
    const replicas = job.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new TypeError(`replicas: an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
    const { cpus, memoryBytes, gpus } = job.resources ?? ({} as JobSpec['resources']);
    if (!(Number.isFinite(cpus) && cpus > 0)) throw new TypeError(`resources.cpus: a number above 0, got ${cpus}`);
    if (!(Number.isFinite(memoryBytes) && memoryBytes > 0)) throw new TypeError(`resources.memoryBytes: a number above 0, got ${memoryBytes}`);
    const env = job.env ?? {};
    for (const [name, value] of Object.entries(env)) {
      if (!ENV_NAME.test(name) || typeof value !== 'string' || value.includes('\0')) throw new TypeError(`env: ${JSON.stringify(name.slice(0, 40))} must be a variable name (letters, digits, _) with a string value without NUL`);
    }
    const labels = { ...job.labels };
    for (const [name, value] of Object.entries(labels)) {
      if (!LABEL.test(name) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
        throw new TypeError(`labels: ${JSON.stringify(name.slice(0, 40))} must be a key of 1 to 63 and a value of at most 63 characters of A-Z a-z 0-9 . _ -`);
      }
    }
    const gpuCount = gpus?.count ?? 0;
    if (!Number.isInteger(gpuCount) || gpuCount < 0) throw new TypeError(`resources.gpus.count: a whole number, got ${gpuCount}`);
    const accelerator = gpuCount > 0 && gpus ? this.acceleratorType(gpus) : undefined;
    const replica = { CPU: cpus, GPU: gpuCount, memory: Math.ceil(memoryBytes), ...(accelerator ? { [`accelerator_type:${accelerator}`]: ACCELERATOR_SHARE } : {}) };
    const masterPort = 20_000 + (createHash('sha256').update(submissionId).digest().readUInt16BE(0) % 20_000);
    const common = { submission_id: submissionId, metadata: labels };
    const imageUri = job.image === undefined ? {} : { image_uri: job.image };
    if (replicas === 1) {
      const variables = { TRELLIS_BACKEND_JOB_ID: submissionId, TRELLIS_REPLICA_INDEX: '0', RANK: '0', LOCAL_RANK: '0', WORLD_SIZE: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(masterPort) };
      return {
        ...common,
        entrypoint: job.command.map(quote).join(' '),
        runtime_env: { env_vars: { ...env, ...variables }, ...imageUri },
        entrypoint_num_cpus: replica.CPU,
        entrypoint_num_gpus: replica.GPU,
        entrypoint_memory: replica.memory,
        ...(accelerator ? { entrypoint_resources: { [`accelerator_type:${accelerator}`]: ACCELERATOR_SHARE } } : {}),
      };
    }
    // An amount of 0 reserves nothing; Ray refuses a bundle of only zeros.
    const bundle = Object.fromEntries(Object.entries(replica).filter(([, amount]) => amount > 0));
    const gang: Gang = { replicas, bundle, command: job.command, masterPort };
    return {
      ...common,
      // The driver only waits on its replicas, which hold the job's resources.
      entrypoint: `${quote(this.options.python)} -c ${quote(GANG_DRIVER)}`,
      runtime_env: { env_vars: { ...env, TRELLIS_BACKEND_JOB_ID: submissionId, [GANG_VARIABLE]: JSON.stringify(gang), RAY_DEDUP_LOGS: '0' }, ...imageUri },
      entrypoint_num_cpus: 0,
      entrypoint_num_gpus: 0,
      entrypoint_memory: 0,
    };
  }

  /** The accelerator type asked for, or the smallest configured one with enough memory; undefined when any will do. */
  private acceleratorType(gpus: NonNullable<JobSpec['resources']['gpus']>): string | undefined {
    if (gpus.type !== undefined) {
      if (!GPU_TYPE.test(gpus.type)) throw new TypeError(`resources.gpus.type: an accelerator type of A-Z a-z 0-9 . _ -, got ${JSON.stringify(gpus.type.slice(0, 40))}`);
      return gpus.type === UNTYPED_GPU ? undefined : gpus.type;
    }
    if (!gpus.minMemoryBytes) return undefined;
    const fitting = Object.entries(this.options.gpuMemoryBytes)
      .filter(([, bytes]) => bytes >= (gpus.minMemoryBytes ?? 0))
      .sort(([, a], [, b]) => a - b);
    if (fitting.length === 0) throw new TypeError(`resources.gpus.minMemoryBytes: no accelerator type in the config's gpuMemoryBytes has ${gpus.minMemoryBytes} bytes`);
    return fitting[0][0];
  }

  /** What the nodes have in all, GPUs by accelerator type. */
  private sum(nodes: RayNode[]): ComputeResources {
    const total = { cpus: 0, memoryBytes: 0, gpus: {} as Record<string, { count: number; memoryBytes: number }> };
    for (const node of nodes) {
      const resources = node.resources_total ?? {};
      total.cpus += resources['CPU'] ?? 0;
      total.memoryBytes += resources['memory'] ?? 0;
      const count = Math.floor(resources['GPU'] ?? 0);
      if (count === 0) continue;
      const type = Object.keys(resources).find((name) => name.startsWith('accelerator_type:'))?.slice('accelerator_type:'.length) ?? UNTYPED_GPU;
      const memoryBytes = this.options.gpuMemoryBytes[type];
      if (!memoryBytes) throw new Error(`the Ray cluster has GPUs of accelerator type ${type}, which the config's gpuMemoryBytes does not name: add gpuMemoryBytes.${type} (the memory of one such GPU, in bytes)`);
      total.gpus[type] = { count: (total.gpus[type]?.count ?? 0) + count, memoryBytes };
    }
    return total;
  }

  private signalWith(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.options.signal]) : this.options.signal;
  }
}

/** Whether the job runs under the gang driver (several replicas). */
function isGang(job: RayJobDetails): boolean {
  return job.runtime_env?.env_vars?.[GANG_VARIABLE] !== undefined;
}

/** `value` as one word of a POSIX shell (Ray runs the entrypoint with a shell). */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
