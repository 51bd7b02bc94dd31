import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { decodePageToken, encodePageToken, NotFoundError, pageSizeOf, resourceName, type Caller } from '@trellis/platform';
import { compareKeys, iterateObjects } from '@trellis/plugin-sdk';
import { RunAccess } from '../runs/run-access';
import { runNotActive } from '../runs/run-errors';
import type { RunEntity } from '../runs/run.entity';
import { artifactPathOf } from './artifact-path';
import { ArtifactStores } from './artifact-stores';
import { RunArtifactStores } from './run-artifact-stores';

/** One entry of an artifact listing. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  size: number;
}

/** Where a run's files are stored, as a platform service that copies them needs it. */
export interface ArtifactStorage {
  /** The run's storage instance's fingerprint (see `instanceFingerprint`). */
  fingerprint: string;
  /** Whether the stored bytes are encrypted, and so not the files. */
  encrypted: boolean;
  /** The key of the run's artifact root; a file's key is this followed by its path. */
  keyPrefix: string;
}

/** A page of an artifact listing. */
export interface ArtifactPage {
  rootUri: string;
  entries: ArtifactEntry[];
  nextPageToken: string;
  /** Only for a service account's listing. */
  storage?: ArtifactStorage;
}

/**
 * A run's files in its storage instance, under `<experiment_id>/<run_id>/artifacts/`, so
 * runs never see each other's files; every path is checked before it becomes a key. An encrypted
 * run's files are encrypted as they are written and decrypted as they are read (sizes are the
 * plaintext's).
 */
@Injectable()
export class ArtifactService {
  constructor(
    private readonly access: RunAccess,
    private readonly stores: ArtifactStores,
    private readonly runStores: RunArtifactStores,
  ) {}

  /** The storage instance of the project's new runs, to a caller who may read its experiments. */
  storeOf(caller: Caller, projectId: string): Promise<string> {
    caller.assert('read', 'Experiment', { projectId });
    return this.stores.storeNameFor(projectId);
  }

  /** Chooses the storage instance of the project's new runs, for a caller who may update the project. */
  async setStore(caller: Caller, projectId: string, name: string): Promise<void> {
    caller.assert('update', 'Project', { projectId, id: projectId });
    await this.stores.setStoreFor(projectId, name);
  }

  async upload(caller: Caller, runId: string, path: string, body: Readable): Promise<ArtifactEntry> {
    const relative = artifactPathOf(path);
    const run = await this.access.require(caller, 'update', runId);
    if (run.lifecycleStage !== 'active') throw runNotActive(runId, `run ${runId} is deleted; restore it before uploading to it`);
    const store = await this.runStores.of(run);
    const stored = await store.put(keyOf(run, relative), body);
    return { path: relative, isDir: false, size: stored.size };
  }

  async download(caller: Caller, runId: string, path: string): Promise<{ body: Readable; size: number }> {
    const relative = artifactPathOf(path);
    const run = await this.access.require(caller, 'read', runId);
    const store = await this.runStores.of(run);
    const key = keyOf(run, relative);
    const info = await store.head(key);
    if (!info) throw new NotFoundError(`run ${runId} has no artifact "${relative}"`, { reason: 'ARTIFACT_NOT_FOUND', resource: resourceName(['runs', runId], ['artifacts', relative]) });
    return { body: await store.get(key), size: info.size };
  }

  /**
   * The files and directories directly under `path`, by path, paged (100 by default, at most
   * 1000). A service account is also told where they are stored.
   */
  async list(caller: Caller, runId: string, path: string, pageSize: number, pageToken: string): Promise<ArtifactPage> {
    const relative = artifactPathOf(path, { allowRoot: true });
    const size = pageSizeOf(pageSize);
    const after = decodePageToken(pageToken, { runId, path: relative }) ?? '';
    const run = await this.access.require(caller, 'read', runId);
    const store = await this.runStores.of(run);
    const root = keyOf(run, '');
    const prefix = relative ? `${root}${relative}/` : root;
    // Entries are named by a token in key order (`name` for a file, `name/` for a directory), so
    // pages continue where the last one stopped however names sort.
    const storage = caller.principal?.platformService ? await this.storageOf(run) : undefined;
    const entries: ArtifactEntry[] = [];
    let lastToken = '';
    for await (const object of iterateObjects(store, { prefix })) {
      const rest = object.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const token = slash === -1 ? rest : rest.slice(0, slash + 1);
      if ((after && compareKeys(token, after) <= 0) || token === lastToken) continue;
      if (entries.length === size) return { rootUri: run.artifactUri, entries, nextPageToken: encodePageToken(lastToken, { runId, path: relative }), storage };
      lastToken = token;
      const entryPath = relative ? `${relative}/${token.replace(/\/$/, '')}` : token.replace(/\/$/, '');
      entries.push(slash === -1 ? { path: entryPath, isDir: false, size: object.size } : { path: entryPath, isDir: true, size: 0 });
    }
    return { rootUri: run.artifactUri, entries, nextPageToken: '', storage };
  }

  /** Deletes a file, or every file under a directory; deleting what is not there succeeds. */
  async delete(caller: Caller, runId: string, path: string): Promise<void> {
    const relative = artifactPathOf(path);
    const run = await this.access.require(caller, 'update', runId);
    const store = await this.runStores.of(run);
    const key = keyOf(run, relative);
    await store.delete(key);
    const under: string[] = [];
    for await (const object of iterateObjects(store, { prefix: `${key}/` })) under.push(object.key);
    for (const objectKey of under) await store.delete(objectKey);
  }

  private async storageOf(run: RunEntity): Promise<ArtifactStorage> {
    return { fingerprint: await this.stores.fingerprintOf(run.artifactStore), encrypted: !!run.artifactKms, keyPrefix: keyOf(run, '') };
  }
}

function keyOf(run: RunEntity, relative: string): string {
  return `${run.experimentId}/${run.id}/artifacts/${relative}`;
}
