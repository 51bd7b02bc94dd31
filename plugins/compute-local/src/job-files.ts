import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobState, ResourceRequest } from '@trellis/plugin-sdk';
import type { ProcessGroup } from './process-groups';

/** What `submit` recorded of a job (job.json); it never changes. */
export interface JobRecord {
  jobId: string;
  idempotencyKey: string;
  name: string;
  labels: Record<string, string>;
  command: string[];
  env: Record<string, string>;
  replicas: number;
  resources: ResourceRequest;
  /** MASTER_PORT of every replica. */
  masterPort: number;
  createdAt: string;
}

/** How a job ended (final.json); the first one written stays. */
export interface FinalRecord {
  state: Extract<JobState, 'succeeded' | 'failed' | 'cancelled'>;
  exitCode?: number;
  message?: string;
  startedAt?: string;
  finishedAt: string;
}

/** What the files of one replica say: its process group once started, its exit code once it ended. */
export interface ReplicaFacts {
  group?: ProcessGroup;
  exit?: { code: number; atMs: number };
}

const ID_PATTERN = /^local-[0-9a-f]{32}$/;
const STALE_RESERVATION_MS = 10 * 60_000;
/**
 * The files a staging directory holds before a submit takes it, empty: creating a file or a directory
 * (about 0.3 ms each on a virtual disk) costs several times writing one that exists, so they are made
 * ahead. The first replica's output files let its wrapper start the command without creating them.
 */
const PREPARED_FILES = ['job.json', 'replica-0.stdout', 'replica-0.stderr'];
/** How long after a reservation the next spare is made: after the replica it reserved for started, so that the two do not compete for the CPUs. */
const SPARE_DELAY_MS = 50;

/**
 * The files of every job under `workDir`: `jobs/<jobId>/` holds job.json, gpus.json (the GPU UUIDs
 * of each replica), final.json, and per replica `replica-<i>.{pid,exit,stdout,stderr}`, which the
 * replica's wrapper writes itself; `work/` is the jobs' working directory. A job's id is a hash of
 * its idempotency key, so the job directory is the key's reservation.
 */
export class JobFiles {
  readonly jobsDir: string;
  private readonly tmpDir: string;
  /** A staging directory made ahead for the next reservation. */
  private spare?: string;
  private preparing?: NodeJS.Timeout;

  constructor(workDir: string) {
    this.jobsDir = join(workDir, 'jobs');
    this.tmpDir = join(workDir, 'tmp');
  }

  /** Creates the directories, and removes reservations a crashed submit prepared but never made. */
  async open(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true, mode: 0o700 });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      const { mtimeMs } = await stat(path);
      if (Date.now() - mtimeMs > STALE_RESERVATION_MS) await rm(path, { recursive: true, force: true });
    }
    this.spare = makeStaging(this.tmpDir, PREPARED_FILES);
  }

  /** Stops making spare staging directories (a pending one would otherwise appear after the caller is gone). */
  close(): void {
    clearTimeout(this.preparing);
    this.preparing = undefined;
  }

  static jobIdOf(idempotencyKey: string): string {
    return `local-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
  }

  static isJobId(jobId: string): boolean {
    return ID_PATTERN.test(jobId);
  }

  dir(jobId: string): string {
    return join(this.jobsDir, jobId);
  }

  replicaPath(jobId: string, replica: number): string {
    return join(this.dir(jobId), `replica-${replica}`);
  }

  /**
   * Reserves the job's key with its record and, when given, its GPUs: everything is written to a
   * directory of its own, then renamed to the job's, which fails while a job directory of that id
   * exists. False when another submit of the key got there first.
   */
  reserve(record: JobRecord, gpus: string[][] | undefined): boolean {
    // Synchronous: a few small writes on a local disk take less than the trips through libuv's
    // thread pool would, and they are most of the start overhead otherwise. No fsync: the rename
    // makes the reservation visible to every process of this host at once, which is all that
    // idempotency needs while the host runs, and a power loss ends the job's processes as well.
    const staging = this.takeSpare();
    writeFileSync(join(staging, 'job.json'), JSON.stringify(record), { mode: 0o600 });
    if (gpus) writeFileSync(join(staging, 'gpus.json'), JSON.stringify(gpus));
    try {
      renameSync(staging, this.dir(record.jobId));
      return true;
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
      throw error;
    }
  }

  /** The spare staging directory, or a new one when there is none; makes the next spare later. */
  private takeSpare(): string {
    const spare = this.spare !== undefined && existsSync(this.spare) ? this.spare : undefined;
    this.spare = undefined;
    this.preparing ??= setTimeout(() => {
      this.preparing = undefined;
      try {
        this.spare ??= makeStaging(this.tmpDir, PREPARED_FILES);
      } catch {
        // A spare is only a head start: the next reservation makes its own directory.
      }
    }, SPARE_DELAY_MS).unref();
    return spare ?? makeStaging(this.tmpDir, ['job.json']);
  }

  /** Whether a job of that id was reserved. */
  exists(jobId: string): boolean {
    return existsSync(this.dir(jobId));
  }

  async jobIds(): Promise<string[]> {
    return (await readdir(this.jobsDir)).filter((name) => ID_PATTERN.test(name));
  }

  record(jobId: string): JobRecord | undefined {
    return readJson(join(this.dir(jobId), 'job.json'));
  }

  final(jobId: string): FinalRecord | undefined {
    return readJson(join(this.dir(jobId), 'final.json'));
  }

  gpus(jobId: string): string[][] | undefined {
    return readJson(join(this.dir(jobId), 'gpus.json'));
  }

  async assignGpus(jobId: string, gpus: string[][]): Promise<void> {
    const temp = join(this.dir(jobId), `gpus.json.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, JSON.stringify(gpus));
    await rename(temp, join(this.dir(jobId), 'gpus.json'));
  }

  /** Records how the job ended unless that is recorded already; returns what is recorded. */
  async settle(jobId: string, final: FinalRecord): Promise<FinalRecord> {
    const temp = join(this.dir(jobId), `final.json.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, JSON.stringify(final));
    try {
      await link(temp, join(this.dir(jobId), 'final.json'));
      return final;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return this.final(jobId) as FinalRecord;
    } finally {
      await unlink(temp);
    }
  }

  /** Marks the job's processes gone and its GPUs free for good, so no later start checks them again. */
  async markReaped(jobId: string): Promise<void> {
    await writeFile(join(this.dir(jobId), 'reaped'), '');
  }

  reaped(jobId: string): boolean {
    return existsSync(join(this.dir(jobId), 'reaped'));
  }

  /**
   * What the replicas' files say now. Synchronous: every check of a job reads them, a replica's start
   * among the first, and a few reads of small files take less than their trips through libuv's
   * thread pool, whose threads would compete with the starting replica for the CPUs.
   */
  replicas(jobId: string, count: number): ReplicaFacts[] {
    const names = new Set(readdirSync(this.dir(jobId)));
    return Array.from({ length: count }, (_, replica): ReplicaFacts => {
      const facts: ReplicaFacts = {};
      const path = this.replicaPath(jobId, replica);
      if (names.has(`replica-${replica}.pid`)) facts.group = written(`${path}.pid`, (text, atMs) => ({ pgid: Number(text), recordedAtMs: atMs }));
      if (names.has(`replica-${replica}.exit`)) facts.exit = written(`${path}.exit`, (text, atMs) => ({ code: Number(text), atMs }));
      return facts;
    });
  }
}

/** A new staging directory under `tmpDir`, with `files` empty. */
function makeStaging(tmpDir: string, files: readonly string[]): string {
  const staging = join(tmpDir, randomBytes(8).toString('hex'));
  mkdirSync(staging, { mode: 0o700 });
  mkdirSync(join(staging, 'work'), { mode: 0o700 });
  for (const name of files) writeFileSync(join(staging, name), '', { mode: 0o600 });
  return staging;
}

/** A number the wrapper wrote, with when; undefined while the file is still empty or gone. */
function written<T>(path: string, make: (text: string, atMs: number) => T): T | undefined {
  try {
    const { mtimeMs } = statSync(path);
    const text = readFileSync(path, 'utf8');
    return /^\d+\n?$/.test(text) ? make(text.trim(), mtimeMs) : undefined;
  } catch {
    return undefined;
  }
}

/** Synchronous, as `replicas`: small files, read at every check of a job. */
function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
