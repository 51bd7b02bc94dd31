import { type FSWatcher, watch } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
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
  type PluginLogger,
  raceAbort,
  type SubmitOptions,
  validateIdempotencyKey,
  watchStatus,
} from '@trellis/plugin-sdk';
import { Changes, coalesced } from './changes';
import { eligibleGpus, type Gpu, gpuPools, pickGpus } from './gpus';
import { type FinalRecord, JobFiles, type JobRecord, type ReplicaFacts } from './job-files';
import { LogFile } from './log-file';
import { groupAlive, killGroups } from './process-groups';
import { startReplica } from './replica-process';

/** How compute-local runs jobs; see the plugin's config. */
export interface LocalComputeOptions {
  workDir: string;
  passEnv: readonly string[];
  killGraceMs: number;
  pollIntervalMs: number;
  gpus: readonly Gpu[];
  logger: PluginLogger;
}

/** A job this instance has looked at: its record, what it last reported, and who waits on it. */
interface LocalJob {
  record: JobRecord;
  /** GPU UUIDs per replica, once assigned. */
  gpus?: string[][];
  final?: FinalRecord;
  status?: JobStatus;
  /** Notified when the status changes. */
  states: Changes;
  /** Notified when a file of the job changes (output grew). */
  output: Changes;
  refresh: () => Promise<JobStatus>;
  watcher?: FSWatcher;
  /** Set once final: resolves when none of its processes runs and its GPUs are free. */
  reaped?: Promise<void>;
}

const MAX_REPLICAS = 1024;
const MAX_ARGUMENT_BYTES = 256 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Jobs as process groups on this host, with every fact about them in files under `workDir` (see
 * `JobFiles`), so that an instance started after another was killed lists, watches, cancels and
 * reads the logs of the jobs the other started, and starts what it had accepted but not started.
 * GPUs go to one job at a time through CUDA_VISIBLE_DEVICES; a job whose GPUs are busy waits, first
 * come first served. One instance at a time should use a `workDir`: GPUs are handed out in memory.
 */
export class LocalComputeBackend implements ComputeBackend {
  private readonly jobs = new Map<string, LocalJob>();
  /** Jobs that wait for GPUs, oldest first. */
  private readonly waiting: LocalJob[] = [];
  /** Job id by GPU UUID, for every GPU a job holds. */
  private readonly held = new Map<string, string>();
  private readonly schedule = coalesced(() => this.startWaiting());
  private timer?: NodeJS.Timeout;
  /** Aborted by `close`: watches end. */
  private readonly closing = new AbortController();

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  private constructor(
    private readonly files: JobFiles,
    private readonly options: LocalComputeOptions,
  ) {}

  /** Opens `options.workDir`, takes over the jobs found there, and starts checking on them. */
  static async open(options: LocalComputeOptions): Promise<LocalComputeBackend> {
    const files = new JobFiles(options.workDir);
    await files.open();
    const backend = new LocalComputeBackend(files, options);
    await backend.recover();
    backend.timer = setInterval(() => backend.checkRunning(), options.pollIntervalMs).unref();
    return backend;
  }

  async capacity(): Promise<ComputeCapacity> {
    const cpus = availableParallelism();
    const memoryBytes = totalmem();
    let busyCpus = 0;
    let busyMemory = 0;
    for (const job of this.jobs.values()) {
      if (job.final || this.waiting.includes(job)) continue;
      busyCpus += job.record.resources.cpus * job.record.replicas;
      busyMemory += job.record.resources.memoryBytes * job.record.replicas;
    }
    const gpus = this.options.gpus;
    return {
      total: { cpus, memoryBytes, gpus: gpuPools(gpus) },
      available: { cpus: Math.max(0, cpus - busyCpus), memoryBytes: Math.max(0, memoryBytes - busyMemory), gpus: gpuPools(gpus.filter((gpu) => !this.held.has(gpu.uuid)), gpus) },
    };
  }

  /** Refuses a container image: this plugin runs commands as processes of the host. */
  whyCannotRun(spec: JobSpec): string | undefined {
    if (spec.image === undefined) return undefined;
    return `compute-local runs commands, not container images: job ${JSON.stringify(String(spec.name).slice(0, 60))} names image ${String(spec.image).slice(0, 100)}; place it on a cluster that runs images (Kubernetes, or Slurm with a container runtime), or drop the image and give the command to run`;
  }

  async submit(spec: JobSpec, { idempotencyKey }: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(idempotencyKey);
    const jobId = JobFiles.jobIdOf(idempotencyKey);
    if (this.jobs.has(jobId) || this.files.exists(jobId)) return { jobId };
    const command = this.checked(spec);
    const replicas = spec.replicas ?? 1;
    const record: JobRecord = {
      jobId,
      idempotencyKey,
      name: spec.name,
      labels: { ...spec.labels },
      command,
      env: { ...spec.env },
      replicas,
      resources: spec.resources,
      masterPort: await freePort(),
      createdAt: new Date().toISOString(),
    };
    // Taken before the reservation is written, so that no submit meanwhile picks the same GPUs.
    const gpus = needsGpus(record) && this.waiting.length === 0 ? this.hold(jobId, pickGpus(this.options.gpus, new Set(this.held.keys()), spec.resources.gpus, replicas)) : undefined;
    let reserved = false;
    try {
      reserved = this.files.reserve(record, gpus);
    } finally {
      if (!reserved) this.release(jobId, gpus);
    }
    if (!reserved) return { jobId };
    const job = this.track(record, gpus, undefined);
    if (needsGpus(record) && !gpus) this.waiting.push(job);
    else this.startReplicas(job, [...Array(replicas).keys()]);
    return { jobId };
  }

  async status(jobId: string): Promise<JobStatus> {
    return (await this.load(jobId)).refresh();
  }

  async list({ labels }: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(labels);
    const summaries: JobSummary[] = [];
    for (const jobId of await this.files.jobIds()) {
      const job = await this.load(jobId).catch(() => undefined);
      if (!job || !wanted.every(([key, value]) => job.record.labels[key] === value)) continue;
      summaries.push({ ...(await job.refresh()), labels: { ...job.record.labels } });
    }
    return summaries;
  }

  async *watch(jobId: string, { signal }: { signal?: AbortSignal } = {}): AsyncIterable<JobStatus> {
    const job = await this.load(jobId);
    // The change waited for is taken before each read, so that one during the read is not missed.
    let change = Promise.resolve();
    const read = () => {
      change = job.states.next;
      return job.refresh();
    };
    yield* watchStatus(read, { nextChange: () => change, signal: signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal });
  }

  async cancel(jobId: string): Promise<void> {
    const job = await this.load(jobId);
    const status = await job.refresh();
    if (!isFinal(status)) {
      await this.settle(job, { state: 'cancelled', message: 'cancelled', startedAt: status.startedAt?.toISOString(), finishedAt: new Date().toISOString() });
      await job.refresh();
    }
    await job.reaped;
  }

  async *logs(jobId: string, { follow = false, signal }: LogOptions = {}): AsyncIterable<JobLogLine> {
    const job = await this.load(jobId);
    const files = [...Array(job.record.replicas).keys()].flatMap((replica) =>
      (['stdout', 'stderr'] as const).map((stream) => new LogFile(`${this.files.replicaPath(jobId, replica)}.${stream}`, replica, stream)),
    );
    for (;;) {
      const next = Promise.race([job.output.next, job.states.next]);
      // Final before the read, so the read sees all the job wrote.
      const final = isFinal(await job.refresh());
      for (const file of files) {
        yield* file.read();
        if (final) yield* file.rest();
      }
      if (final || !follow || signal?.aborted || this.closed) return;
      await raceAbort(next, signal);
    }
  }

  /** Stops watching files and processes. Jobs keep running: a later instance takes them over. */
  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.timer);
    this.files.close();
    for (const job of this.jobs.values()) {
      job.watcher?.close();
      job.states.notify();
      job.output.notify();
    }
  }

  /** Takes over the jobs in `workDir`: reaps the ended, starts replicas that never started, queues jobs waiting for GPUs. */
  private async recover(): Promise<void> {
    const jobs: LocalJob[] = [];
    for (const jobId of await this.files.jobIds()) if (!this.files.reaped(jobId)) jobs.push(await this.load(jobId));
    jobs.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
    for (const job of jobs) {
      await job.refresh();
      if (job.final) continue;
      if (needsGpus(job.record) && !job.gpus) this.waiting.push(job);
      else await this.startMissing(job);
    }
    await this.schedule();
  }

  private async load(jobId: string): Promise<LocalJob> {
    const known = this.jobs.get(jobId);
    if (known) return known;
    const record = JobFiles.isJobId(jobId) ? this.files.record(jobId) : undefined;
    if (!record) throw new JobNotFoundError(jobId);
    const [gpus, final, reaped] = [this.files.gpus(jobId), this.files.final(jobId), this.files.reaped(jobId)];
    if (!reaped) this.hold(jobId, gpus);
    return this.track(record, gpus, final, reaped);
  }

  private track(record: JobRecord, gpus: string[][] | undefined, final: FinalRecord | undefined, reaped = false): LocalJob {
    const job: LocalJob = { record, gpus, final, states: new Changes(), output: new Changes(), refresh: () => this.refresh(job) };
    job.refresh = coalesced(job.refresh);
    this.jobs.set(record.jobId, job);
    if (reaped) job.reaped = Promise.resolve();
    else if (final) this.reap(job);
    else job.watcher = this.watchFiles(job);
    return job;
  }

  /**
   * Wakes log readers when the job's files change, and checks the job when a replica ended, or
   * started while someone waits for its state: a check is work that would compete with the
   * starting replica for the CPUs, and a later look at the job reads its state from the files.
   */
  private watchFiles(job: LocalJob): FSWatcher | undefined {
    try {
      const watcher = watch(this.files.dir(job.record.jobId), (_event, name) => {
        job.output.notify();
        if (name?.endsWith('.exit') || (name?.endsWith('.pid') && job.states.awaited)) this.check(job);
      });
      watcher.on('error', () => watcher.close());
      return watcher;
    } catch (error) {
      // Out of inotify watches: the periodic check still sees the job change, later.
      this.options.logger.warn({ jobId: job.record.jobId, error: (error as Error).message }, 'cannot watch the files of a job; checking it every pollIntervalMs');
      return undefined;
    }
  }

  private check(job: LocalJob): void {
    if (this.closed) return;
    job.refresh().catch((error: Error) => this.options.logger.error({ jobId: job.record.jobId, error: error.message }, 'cannot read the state of a job'));
  }

  /** Checks every job that is not final: a replica may have died without a word (SIGKILL from outside). */
  private checkRunning(): void {
    for (const job of this.jobs.values()) if (!job.final) this.check(job);
  }

  /** The job's status from its files; settles it when they say it ended. */
  private async refresh(job: LocalJob): Promise<JobStatus> {
    const { jobId } = job.record;
    job.final ??= this.files.final(jobId);
    let facts: ReplicaFacts[] = [];
    if (!job.final) {
      let alive: boolean[];
      ({ facts, alive } = await this.observe(job));
      const ended = ending(facts, alive);
      if (ended) await this.settle(job, ended);
    }
    const status = job.final ? finalStatus(jobId, job.final) : this.liveStatus(job, facts);
    if (JSON.stringify(status) !== JSON.stringify(job.status)) {
      job.status = status;
      job.states.notify();
    }
    return status;
  }

  /** What the replicas' files say, and which replicas run. */
  private async observe(job: LocalJob): Promise<{ facts: ReplicaFacts[]; alive: boolean[] }> {
    const { jobId, replicas } = job.record;
    const facts = this.files.replicas(jobId, replicas);
    const alive = await Promise.all(facts.map((fact) => !fact.exit && fact.group !== undefined && groupAlive(fact.group.pgid, fact.group.recordedAtMs)));
    // A wrapper writes its exit code before it exits: read again what a dead one left.
    if (facts.some((fact, i) => fact.group && !fact.exit && !alive[i])) return { facts: this.files.replicas(jobId, replicas), alive };
    return { facts, alive };
  }

  private liveStatus(job: LocalJob, facts: readonly ReplicaFacts[]): JobStatus {
    const { jobId } = job.record;
    const startedAt = startOf(facts);
    if (startedAt) return { jobId, state: 'running', startedAt };
    return this.waiting.includes(job) ? { jobId, state: 'pending', message: this.waitingFor(job) } : { jobId, state: 'pending' };
  }

  private waitingFor(job: LocalJob): string {
    const { resources, replicas } = job.record;
    const free = eligibleGpus(this.options.gpus, resources.gpus).filter((gpu) => !this.held.has(gpu.uuid)).length;
    const ahead = this.waiting.indexOf(job);
    const what = `${resources.gpus?.count} GPU(s)${resources.gpus?.type ? ` of type ${resources.gpus.type}` : ''} for each of ${replicas} replica(s)`;
    return `waiting for ${what}: ${free} free now${ahead > 0 ? `, ${ahead} job(s) waiting before it` : ''}`;
  }

  private async settle(job: LocalJob, final: FinalRecord): Promise<void> {
    job.final = await this.files.settle(job.record.jobId, final);
    job.watcher?.close();
    job.watcher = undefined;
    this.reap(job);
  }

  /** Ends every process the final job left, in the background, then frees its GPUs for the jobs that wait. */
  private reap(job: LocalJob): void {
    const index = this.waiting.indexOf(job);
    if (index >= 0) this.waiting.splice(index, 1);
    job.reaped ??= (async () => {
      const { jobId, replicas } = job.record;
      const groups = this.files.replicas(jobId, replicas).flatMap((fact) => (fact.group ? [fact.group] : []));
      await killGroups(groups, this.options.killGraceMs);
      this.release(jobId, job.gpus);
      await this.files.markReaped(jobId);
      await this.schedule();
    })().catch((error: Error) => this.options.logger.error({ jobId: job.record.jobId, error: error.message }, 'cannot end the processes of a final job'));
  }

  /** Gives GPUs to the jobs that wait for them, in order, while they fit. */
  private async startWaiting(): Promise<void> {
    if (this.closed) return;
    for (let job = this.waiting[0]; job; job = this.waiting[0]) {
      const gpus = this.hold(job.record.jobId, pickGpus(this.options.gpus, new Set(this.held.keys()), job.record.resources.gpus, job.record.replicas));
      if (!gpus) return;
      this.waiting.shift();
      job.gpus = gpus;
      await this.files.assignGpus(job.record.jobId, gpus);
      this.startReplicas(job, [...Array(job.record.replicas).keys()]);
      this.check(job);
    }
  }

  /** Starts the replicas of an accepted job that have no process yet (an instance died before it started them). */
  private async startMissing(job: LocalJob): Promise<void> {
    const facts = this.files.replicas(job.record.jobId, job.record.replicas);
    this.startReplicas(
      job,
      facts.flatMap((fact, replica) => (fact.group ? [] : [replica])),
    );
  }

  private startReplicas(job: LocalJob, replicas: number[]): void {
    const { record } = job;
    const host = Object.fromEntries(this.options.passEnv.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name] as string]])));
    for (const replica of replicas) {
      const env = { ...host, ...record.env, ...replicaEnv(record, replica, job.gpus?.[replica] ?? []) };
      const child = startReplica(this.files.dir(record.jobId), replica, record.command, env);
      child.once('exit', () => this.check(job));
      child.once('error', (error) => {
        this.options.logger.error({ jobId: record.jobId, replica, error: error.message }, 'cannot start a replica');
        void this.settle(job, { state: 'failed', message: `replica ${replica} could not start: ${error.message}`, finishedAt: new Date().toISOString() }).then(() => this.check(job));
      });
    }
  }

  private hold(jobId: string, gpus: string[][] | undefined): string[][] | undefined {
    for (const uuid of gpus?.flat() ?? []) this.held.set(uuid, jobId);
    return gpus;
  }

  private release(jobId: string, gpus: string[][] | undefined): void {
    for (const uuid of gpus?.flat() ?? []) if (this.held.get(uuid) === jobId) this.held.delete(uuid);
  }

  /** The job's command, once the job is one this host can run; a TypeError naming the field otherwise. */
  private checked(spec: JobSpec): string[] {
    const job = `job ${JSON.stringify(String(spec.name).slice(0, 60))}`;
    const why = this.whyCannotRun(spec);
    if (why !== undefined) throw new TypeError(why);
    const { command, env = {}, resources, replicas = 1 } = spec;
    if (!Array.isArray(command) || command.length === 0 || command[0] === '' || !command.every(isPlainString)) throw new TypeError(`${job}: command must be a list of strings without NUL characters that starts with the program to run`);
    if (bytes(command) > MAX_ARGUMENT_BYTES) throw new TypeError(`${job}: command is ${bytes(command)} bytes long; at most ${MAX_ARGUMENT_BYTES}`);
    const badEnv = Object.entries(env).find(([name, value]) => !ENV_NAME.test(name) || !isPlainString(value));
    if (badEnv) throw new TypeError(`${job}: env ${JSON.stringify(badEnv[0].slice(0, 60))} must be named with letters, digits and _ (not starting with a digit) and hold a string without NUL characters`);
    if (bytes(Object.entries(env).flat()) > MAX_ARGUMENT_BYTES) throw new TypeError(`${job}: env is ${bytes(Object.entries(env).flat())} bytes long; at most ${MAX_ARGUMENT_BYTES}`);
    if (!Object.values(spec.labels ?? {}).every(isPlainString)) throw new TypeError(`${job}: labels must map names to strings`);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new TypeError(`${job}: replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
    const cores = availableParallelism();
    if (!(resources?.cpus >= 0) || resources.cpus * replicas > cores) throw new TypeError(`${job}: resources.cpus times replicas is ${resources?.cpus * replicas}, and this host has ${cores} CPUs`);
    if (!(resources.memoryBytes >= 0) || resources.memoryBytes * replicas > totalmem()) throw new TypeError(`${job}: resources.memoryBytes times replicas is ${resources.memoryBytes * replicas}, and this host has ${totalmem()} bytes`);
    this.checkGpus(job, resources.gpus, replicas);
    return [...command];
  }

  private checkGpus(job: string, gpus: JobSpec['resources']['gpus'], replicas: number): void {
    if (gpus === undefined) return;
    if (!Number.isInteger(gpus.count) || gpus.count < 0) throw new TypeError(`${job}: resources.gpus.count must be an integer of 0 or more, got ${gpus.count}`);
    const types = [...new Set(this.options.gpus.map((gpu) => gpu.type))];
    if (gpus.type !== undefined && gpus.count > 0 && !types.includes(gpus.type)) {
      throw new TypeError(`${job}: resources.gpus.type ${JSON.stringify(String(gpus.type).slice(0, 60))} is not a GPU type of this host (${types.join(', ') || 'it has no GPUs'})`);
    }
    const fit = eligibleGpus(this.options.gpus, gpus).length;
    if (gpus.count * replicas > fit) throw new TypeError(`${job}: resources.gpus asks for ${gpus.count * replicas} GPUs in all (${gpus.count} for each of ${replicas} replicas), and this host has ${fit} that fit`);
  }
}

function isFinal(status: JobStatus): boolean {
  return FINAL_JOB_STATES.includes(status.state);
}

function needsGpus(record: JobRecord): boolean {
  return (record.resources.gpus?.count ?? 0) > 0;
}

function isPlainString(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\0');
}

function bytes(strings: readonly string[]): number {
  return strings.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0);
}

/** How the job ended, when its replicas say it did: the first to fail, or all succeeded. */
function ending(facts: readonly ReplicaFacts[], alive: readonly boolean[]): FinalRecord | undefined {
  const now = new Date().toISOString();
  const startedAt = startOf(facts)?.toISOString();
  const failed = facts
    .map((fact, replica) => ({ replica, exit: fact.exit }))
    .filter(({ exit }) => exit && exit.code !== 0)
    .sort((a, b) => (a.exit?.atMs ?? 0) - (b.exit?.atMs ?? 0))[0];
  if (failed?.exit) return { state: 'failed', exitCode: failed.exit.code, message: `replica ${failed.replica} exited with code ${failed.exit.code}`, startedAt, finishedAt: now };
  const lost = facts.findIndex((fact, i) => fact.group && !fact.exit && !alive[i]);
  if (lost >= 0) return { state: 'failed', message: `replica ${lost} ended without an exit code: its processes were killed from outside Trellis`, startedAt, finishedAt: now };
  if (facts.every((fact) => fact.exit?.code === 0)) return { state: 'succeeded', exitCode: 0, startedAt, finishedAt: now };
  return undefined;
}

/** When the first replica started: when the first wrapper recorded its pid. */
function startOf(facts: readonly ReplicaFacts[]): Date | undefined {
  const times = facts.flatMap((fact) => (fact.group ? [fact.group.recordedAtMs] : []));
  return times.length > 0 ? new Date(Math.min(...times)) : undefined;
}

function finalStatus(jobId: string, final: FinalRecord): JobStatus {
  return {
    jobId,
    state: final.state,
    ...(final.exitCode === undefined ? {} : { exitCode: final.exitCode }),
    ...(final.message === undefined ? {} : { message: final.message }),
    ...(final.startedAt === undefined ? {} : { startedAt: new Date(final.startedAt) }),
    finishedAt: new Date(final.finishedAt),
  };
}

/** What a replica learns of its place in the job, and the GPUs it may use (none: an empty CUDA_VISIBLE_DEVICES). */
function replicaEnv(record: JobRecord, replica: number, gpus: readonly string[]): Record<string, string> {
  return {
    TRELLIS_BACKEND_JOB_ID: record.jobId,
    TRELLIS_REPLICA_INDEX: String(replica),
    WORLD_SIZE: String(record.replicas),
    RANK: String(replica),
    LOCAL_RANK: String(replica),
    LOCAL_WORLD_SIZE: String(record.replicas),
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(record.masterPort),
    CUDA_VISIBLE_DEVICES: gpus.join(','),
  };
}

/** A TCP port free on 127.0.0.1 now, for the replicas to meet on. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
