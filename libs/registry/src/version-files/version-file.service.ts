import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER, ServiceClients, ServiceIdentity, ServiceIdentityError, type Caller, type GrpcCallOptions, type Logger } from '@trellis/platform';
import { iterateObjects, type ObjectStore } from '@trellis/plugin-sdk';
import { type ArtifactStorage, ArtifactServiceDesc } from '@trellis/proto';
import type { VersionStatusName } from '../versions/version.entity';
import { RegistryStore } from './registry-store';

/** One file or directory directly under a path of a version's copy. */
export interface VersionFileEntry {
  path: string;
  isDir: boolean;
  size: number;
}

/**
 * Where a new version's files come from. A run's are copied as the registry's own service account
 * on behalf of `caller`, whose right to read the run was checked with their own token when the
 * version was created.
 */
export type CopySource =
  | { kind: 'run'; caller: Caller; runId: string; path: string }
  /** Another version's copy: its storage instance and whether it is encrypted. */
  | { kind: 'version'; prefix: string; label: string; store: string; encrypted: boolean };

/** A copy into a new version's prefix. */
export interface CopyJob {
  modelId: number;
  version: number;
  /** The storage instance the version's files go to. */
  store: string;
  prefix: string;
  /** Whether the version's files are encrypted: then every byte is written through its KMS instance. */
  encrypted: boolean;
  from: CopySource;
  /** Records how the copy ended, if the version is still PENDING; resolves to whether it was. */
  settle(outcome: VersionStatusName, message: string): Promise<boolean>;
}

/** What a version left PENDING by a stopped registry says; its copy is not resumed. */
export const INTERRUPTED = 'the registry stopped while copying; create the version again';

/** Deadline of one call to tracking during a copy; a file's download must finish within it. */
const COPY_CALL_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * A version's files in the registry's storage instance it was created with, under
 * `models/<project_id>/<model id>/<version>/`. New versions are copied in the background, so a
 * CreateVersion call does not wait for gigabytes: the version is PENDING until its files are all
 * in place, then READY, or FAILED saying why. Files in the clear that already sit in the same
 * storage (another version's, or a run's whose storage tracking fingerprints as the target's) are
 * copied inside it with the store's `copy` where it has one; anything else streams through here.
 */
@Injectable()
export class VersionFileService implements OnModuleDestroy {
  private readonly copies = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closing = false;

  constructor(
    private readonly stores: RegistryStore,
    private readonly clients: ServiceClients,
    private readonly identity: ServiceIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Stops the copies in flight; their versions become FAILED as after a crash, but at once. A
   * version created while the service drains fails the same way rather than start a copy the
   * closing database would strand PENDING.
   */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    const running = [...this.copies.values()];
    for (const copy of running) copy.controller.abort();
    await Promise.all(running.map((copy) => copy.done));
  }

  /** Starts copying a PENDING version's files; the version becomes READY or FAILED when it ends. */
  start(job: CopyJob): void {
    const id = `${job.modelId}/${job.version}`;
    const controller = new AbortController();
    if (this.closing) controller.abort();
    const done = this.copy(job, controller.signal)
      .then(
        () => this.finish(job, 'READY', ''),
        (error: unknown) => this.finish(job, 'FAILED', controller.signal.aborted ? INTERRUPTED : failureOf(job, error)),
      )
      .catch((error: unknown) => this.logger.error({ err: error, modelId: job.modelId, version: job.version }, 'could not record the end of a version copy'))
      .finally(() => this.copies.delete(id));
    this.copies.set(id, { controller, done });
  }

  /** Stops the copies of a model's versions (all, or one) that is being deleted. */
  cancel(modelId: number, version?: number): void {
    for (const [id, copy] of this.copies) {
      if (id === `${modelId}/${version}` || (version === undefined && id.startsWith(`${modelId}/`))) copy.controller.abort();
    }
  }

  /** The storage instance a project's new versions are copied into: the one it chose for the registry, else `default`. */
  storeFor(projectId: string): Promise<string> {
    return this.stores.storeNameFor(projectId);
  }

  /** The files and directories directly under `relative` of the copy at `prefix` in the instance `storeName`, by path. */
  async list(storeName: string, prefix: string, relative: string): Promise<VersionFileEntry[]> {
    const store = await this.stores.store(storeName);
    const under = relative ? `${prefix}${relative}/` : prefix;
    const entries = new Map<string, VersionFileEntry>();
    for await (const object of iterateObjects(store, { prefix: under })) {
      const rest = object.key.slice(under.length);
      const slash = rest.indexOf('/');
      const name = slash === -1 ? rest : rest.slice(0, slash);
      const path = relative ? `${relative}/${name}` : name;
      if (!entries.has(path)) entries.set(path, slash === -1 ? { path, isDir: false, size: object.size } : { path, isDir: true, size: 0 });
    }
    return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The file at `key` in the instance `storeName`, or undefined when there is none. */
  async open(storeName: string, key: string): Promise<{ body: Readable; size: number } | undefined> {
    const store = await this.stores.store(storeName);
    const info = await store.head(key);
    return info ? { body: await store.get(key), size: info.size } : undefined;
  }

  /** Deletes every file under `prefix` in the instance `storeName`; best effort, for versions and models that are gone. */
  async deleteUnder(storeName: string, prefix: string): Promise<void> {
    try {
      const store = await this.stores.store(storeName);
      const keys: string[] = [];
      for await (const object of iterateObjects(store, { prefix })) keys.push(object.key);
      for (const key of keys) await store.delete(key);
    } catch (error) {
      this.logger.warn({ err: error, store: storeName, prefix }, 'could not delete the files of a deleted version');
    }
  }

  private async copy(job: CopyJob, signal: AbortSignal): Promise<void> {
    const target = await this.stores.store(job.store);
    signal.throwIfAborted();
    if (job.from.kind === 'version') {
      const from = job.from;
      const sameStore = from.store === job.store;
      const source = sameStore ? target : await this.stores.store(from.store);
      // An encrypted file's stored bytes are bound to its key, so only files in the clear on both sides are copied raw.
      const inside = sameStore && !from.encrypted && !job.encrypted ? await this.copierOf(job.store) : undefined;
      for await (const object of iterateObjects(source, { prefix: from.prefix })) {
        signal.throwIfAborted();
        const key = `${job.prefix}${object.key.slice(from.prefix.length)}`;
        if (inside && (await inside(object.key, key, signal))) continue;
        await target.put(key, await source.get(object.key), { signal });
      }
      return;
    }
    const from = job.from;
    // The run is in the model's project (checked at creation), the second segment of models/<project_id>/...
    const asService = (timeoutMs?: number) => this.identity.callOptions({ onBehalfOf: from.caller, projectId: job.prefix.split('/')[1], timeoutMs, signal });
    const listed: RunListing = {};
    let inside: CopyInside | null | undefined;
    const copyFile = async (path: string, key: string) => {
      // Decided once tracking has said where the run's files are (its first listing, made before any file).
      if (inside === undefined) inside = await this.runCopierFor(job, listed.storage);
      if (inside && listed.storage && (await inside(`${listed.storage.keyPrefix}${path}`, key, signal))) return;
      await this.copyRunFile(target, from, path, key, asService, signal);
    };
    let copied = 0;
    for await (const path of this.runFiles(from, from.path, asService, listed)) {
      await copyFile(path, `${job.prefix}${from.path ? path.slice(from.path.length + 1) : path}`);
      copied++;
    }
    if (copied > 0) return;
    if (!from.path) throw new CopyFailure(`run ${from.runId} has no artifacts to copy`);
    // No directory of that name: it may name a single file, which becomes the version's only file.
    await copyFile(from.path, `${job.prefix}${posix.basename(from.path)}`);
  }

  /**
   * How a run's files are copied inside storage: when neither the run's files nor the version's
   * are encrypted, and tracking's fingerprint of the run's storage is the target instance's.
   */
  private async runCopierFor(job: CopyJob, storage: ArtifactStorage | undefined): Promise<CopyInside | null> {
    if (!storage?.fingerprint || storage.encrypted || job.encrypted) return null;
    if ((await this.stores.fingerprintOf(job.store)) !== storage.fingerprint) return null;
    return (await this.copierOf(job.store)) ?? null;
  }

  /**
   * Copies one object to another key of the instance `storeName` with its `copy` (undefined when
   * the plugin has none); resolves false, for the caller to stream instead, when that fails for
   * any reason but the copy being stopped: a fingerprint is a hint, and streaming gives the
   * failure a person can act on.
   */
  private async copierOf(storeName: string): Promise<CopyInside | undefined> {
    const raw = await this.stores.raw(storeName);
    const copy = raw.copy?.bind(raw);
    if (!copy) return undefined;
    return async (from, to, signal) => {
      try {
        await copy(from, to, { signal });
        return true;
      } catch (error) {
        signal.throwIfAborted();
        // A source that is not there is the stream's to report (a run's path that names nothing); anything else is worth a line.
        if ((error as { code?: unknown }).code !== 'OBJECT_NOT_FOUND') this.logger.warn({ err: error, store: storeName, from, to }, 'could not copy a file inside storage; streaming it instead');
        return false;
      }
    };
  }

  /** Every file under `dir` of the run, depth first, through tracking's paged listing; `listed` keeps where tracking says they are stored. */
  private async *runFiles(from: Extract<CopySource, { kind: 'run' }>, dir: string, asService: AsService, listed: RunListing): AsyncGenerator<string> {
    const artifacts = this.clients.of(ArtifactServiceDesc, 'tracking');
    let pageToken = '';
    do {
      const options = await asService();
      options.signal?.throwIfAborted();
      const page = await artifacts.listArtifacts({ runId: from.runId, path: dir, pageToken }, options);
      listed.storage ??= page.storage;
      for (const file of page.files) {
        if (file.isDir) yield* this.runFiles(from, file.path, asService, listed);
        else yield file.path;
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** Streams one run file into the store chunk by chunk, never holding the whole file. */
  private async copyRunFile(
    store: ObjectStore,
    from: Extract<CopySource, { kind: 'run' }>,
    path: string,
    key: string,
    asService: AsService,
    signal: AbortSignal,
  ): Promise<void> {
    const artifacts = this.clients.of(ArtifactServiceDesc, 'tracking');
    // What tracking answered, whatever the store makes of the body's failure (a plugin may wrap it as its own).
    let sourceFailure: unknown;
    const body = Readable.from(
      (async function* () {
        try {
          // The call starts when the store first reads, which may be long after this; its token is got then.
          for await (const { chunk } of artifacts.downloadArtifact({ runId: from.runId, path }, await asService(COPY_CALL_TIMEOUT_MS))) yield chunk;
        } catch (error) {
          sourceFailure = error;
          throw error;
        }
      })(),
      { objectMode: false },
    );
    try {
      await store.put(key, body, { signal });
    } catch (error) {
      const failure = sourceFailure ?? error;
      if ((failure as { code?: unknown }).code === status.NOT_FOUND) throw new CopyFailure(`run ${from.runId} has no artifact "${path}"`);
      throw failure;
    }
  }

  private async finish(job: CopyJob, outcome: VersionStatusName, message: string): Promise<void> {
    const ended = await job.settle(outcome, message);
    // A failed copy leaves nothing behind; nor does one whose version was deleted meanwhile.
    if (outcome === 'FAILED' || !ended) await this.deleteUnder(job.store, job.prefix);
    if (outcome === 'FAILED') this.logger.warn({ modelId: job.modelId, version: job.version, reason: message }, 'version copy failed');
  }
}

/** Options of a call to tracking made as the registry's service account for the version's creator. */
type AsService = (timeoutMs?: number) => Promise<GrpcCallOptions>;

/** Copies the object at `from` to `to` inside one storage instance; false when the caller must stream it instead. */
type CopyInside = (from: string, to: string, signal: AbortSignal) => Promise<boolean>;

/** What tracking's listing of a run said about where its files are stored (only a service account is told). */
interface RunListing {
  storage?: ArtifactStorage;
}

/** A copy that cannot succeed, with the message the version's status_message shows. */
class CopyFailure extends Error {}

/** What a FAILED version says, written for the person who created it. */
function failureOf(job: CopyJob, error: unknown): string {
  if (error instanceof CopyFailure) return error.message;
  if (error instanceof ServiceIdentityError) return `the registry could not act as its own service account while copying: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  const details = (error as { details?: string }).details ?? (error as Error).message ?? String(error);
  const source = job.from.kind === 'run' ? `run ${job.from.runId}` : job.from.label;
  if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) return `tracking refused the registry's service account the files of ${source}: ${details}`;
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) return `tracking did not answer while copying from ${source} (${details}); create the version again`;
  if (code === 'OBJECT_NOT_FOUND') return `${source} lost its files while they were copied; create the version again`;
  return `copying from ${source} failed: ${details}`;
}
