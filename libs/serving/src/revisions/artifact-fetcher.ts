import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type GrpcCallError, SERVICE_CONFIG, ServiceClients, ServiceIdentity, type TrellisConfig } from '@trellis/platform';
import { RegistryServiceDesc } from '@trellis/proto';
import type { RevisionEntity } from '../endpoints/endpoint.entity';
import type { ServingConfig } from '../serving.config';

/** What a revision's files are fetched for: the version, its project, and who deployed it. */
export interface ArtifactSource {
  revision: Pick<RevisionEntity, 'id' | 'modelName' | 'modelVersion' | 'creatorId' | 'modelFormat' | 'artifactUri'>;
  projectId: string;
}

/** Longest a fetch waits for one registry call. */
const CALL_TIMEOUT_MS = 5 * 60_000;

/**
 * Fetches a revision's model files from the registry's copy of its version into this replica's
 * cache, one directory per revision. The registry keeps (and may encrypt) the files in its own
 * storage, which no other service reads, so they come through its gRPC API (ListVersionFiles,
 * DownloadVersionFile) as serving's own service account, on behalf of the user who deployed the
 * revision: every replica fetches at start and long after the deploy call, when that user's
 * token is gone. The deployer's right to read the version was checked with their own token when
 * they deployed it. A version the registry holds only as a reference (its `source` an `s3://` or
 * other URI, no copy) has no files to fetch: serving reaches no storage but the registry's.
 */
@Injectable()
export class ArtifactFetcher {
  private readonly root: string;

  constructor(
    private readonly clients: ServiceClients,
    private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) config: ServingConfig,
    @Inject(CONFIG) platform: TrellisConfig,
  ) {
    this.root = resolve(config.modelCacheDir || join(platform.dataDir, 'serving', 'models'));
  }

  /**
   * The local path to load: the version's one file, or its `model.<format>`, or its only file of
   * that extension (for a version that names no format, its only `model.<extension>` beside
   * MLflow's MLmodel), else its directory. Files already fetched by this replica are reused.
   */
  async fetch({ revision, projectId }: ArtifactSource): Promise<string> {
    const dir = join(this.root, revision.id);
    if (!(await exists(join(dir, '.complete')))) {
      const partial = `${dir}.partial`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(partial, { recursive: true });
      await this.download({ revision, projectId }, '', partial).catch((error: unknown) => {
        throw (error as GrpcCallError).reason === 'VERSION_IS_REFERENCE' ? new Error(referenceOnly(revision), { cause: error }) : error;
      });
      await mkdir(join(partial, '.complete'));
      await rm(dir, { recursive: true, force: true });
      await rename(partial, dir);
    }
    return this.entryOf(revision, dir);
  }

  /** Removes what `fetch` kept for the revision. */
  async remove(revisionId: string): Promise<void> {
    await rm(join(this.root, revisionId), { recursive: true, force: true });
  }

  private async download(source: ArtifactSource, path: string, into: string): Promise<void> {
    const registry = this.clients.of(RegistryServiceDesc, 'registry');
    const key = { projectId: source.projectId, modelName: source.revision.modelName, version: BigInt(source.revision.modelVersion) };
    const options = () => this.identity.callOptions({ onBehalfOf: source.revision.creatorId, projectId: source.projectId, timeoutMs: CALL_TIMEOUT_MS });
    let pageToken = '';
    do {
      const page = await registry.listVersionFiles({ ...key, path, pageSize: 1000, pageToken }, await options());
      for (const file of page.files) {
        const target = resolve(into, file.path);
        if (!target.startsWith(into + sep)) throw new Error(`the registry named a file outside the version: ${file.path}`);
        if (file.isDir) {
          await this.download(source, file.path, into);
          continue;
        }
        await mkdir(dirname(target), { recursive: true });
        const chunks = registry.downloadVersionFile({ ...key, path: file.path }, await options());
        await pipeline(
          (async function* () {
            for await (const { chunk } of chunks) yield chunk;
          })(),
          createWriteStream(target),
        );
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  private async entryOf(revision: ArtifactSource['revision'], dir: string): Promise<string> {
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
    if (files.length === 0) throw new Error(`the registry holds no files for ${revision.modelName} version ${revision.modelVersion}`);
    if (files.length === 1) return files[0];
    if (!revision.modelFormat) {
      const models = files.filter((file) => dirname(file) === dir && /^model\.[^.]+$/.test(basename(file)));
      return models.length === 1 ? models[0] : dir;
    }
    const extension = `.${revision.modelFormat}`;
    const named = files.find((file) => file === join(dir, `model${extension}`));
    const ofFormat = files.filter((file) => file.endsWith(extension));
    return named ?? (ofFormat.length === 1 ? ofFormat[0] : dir);
  }
}

/** Why a version kept as a reference cannot be served, and what to do instead. */
function referenceOnly(revision: ArtifactSource['revision']): string {
  return (
    `version ${revision.modelVersion} of model ${revision.modelName} is a reference to ${revision.artifactUri}: the registry keeps no copy of its files, and serving loads only the files the registry keeps. ` +
    `Register a version the registry copies (log the files to a run and create the version from runs:/<run id>/<path>) and deploy that version instead`
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
