import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, SERVICE_CONFIG, ServiceClients, tarFiles, type TrellisConfig } from '@trellis/platform';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ComputeConfig } from '../compute.config';
import { JobRuns } from '../jobs/job-runs';
import type { DatasetInputSpec } from '../jobs/job-spec';
import type { AttemptEntity, JobEntity } from '../jobs/job.entity';
import { DatasetCache, type CachedVersion } from './dataset-cache';
import { datasetEnv, type PlacedInput } from './dataset-env';
import { copyWritable, removeTree } from './file-trees';

/** Dataset ids name cache folders: only ids that are plain path segments are taken (the data service's are UUIDs). */
const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An input the attempt could not be given; the attempt fails with this message as its reason. */
export class DatasetInputError extends Error {}

/** An input's version as the data service resolved it for the submitter. */
interface ResolvedInput extends CachedVersion {
  datasetName: string;
  input: DatasetInputSpec;
}

/** An input's version in the cache. */
interface CachedInput extends ResolvedInput {
  dir: string;
}

/**
 * Gives each attempt its job's dataset inputs as local folders, for backends whose jobs see this
 * host's filesystem: each version is fetched once with DownloadDatasetVersionTar into the cache
 * (read-only; a MOUNT input is that folder), and a DOWNLOAD input is copied into a writable folder
 * of the attempt. Every version is resolved again with a credential of the job's submitter, also
 * when the cache has it, so a job never gets data its submitter may no longer read.
 */
@Injectable()
export class DatasetMaterializer {
  private readonly cache: DatasetCache;

  constructor(
    private readonly clients: ServiceClients,
    private readonly runs: JobRuns,
    @Inject(SERVICE_CONFIG) config: ComputeConfig,
    @Inject(CONFIG) platform: TrellisConfig,
  ) {
    this.cache = new DatasetCache(resolve(config.datasetCacheDir || join(platform.dataDir, 'compute', 'datasets')), config.datasetCacheMaxBytes);
  }

  /** The variables that tell the attempt where its inputs are (see `datasetEnv`); DatasetInputError when one cannot be given. */
  async prepare(job: JobEntity, attempt: AttemptEntity): Promise<Record<string, string>> {
    const { inputs } = job.spec;
    if (inputs.length === 0) return {};
    const owner = attemptFolder(attempt);
    const purpose = `compute job ${job.id} attempt ${attempt.number} dataset inputs`;
    try {
      const versions = await this.runs.asSubmitter(job, purpose, (token) => Promise.all(inputs.map((input, index) => this.resolve(job.projectId, input, index, token))));
      await this.cache.pin(owner, versions);
      const placed: PlacedInput[] = [];
      for (const [index, version] of versions.entries()) {
        // A token of its own per download: one made before an earlier long download may have expired.
        const dir = await this.cache.version(version, (target) => this.runs.asSubmitter(job, purpose, (token) => this.download(version, token, target)));
        placed.push({ datasetName: version.datasetName, dir: await this.place(owner, { ...version, dir }, index) });
      }
      return datasetEnv(placed);
    } catch (error) {
      if (error instanceof DatasetInputError) throw error;
      throw new DatasetInputError(`the dataset inputs could not be fetched: ${(error as Error).message}`);
    }
  }

  /** Drops an ended attempt's hold on its versions, and its writable copies. */
  async release(attempt: Pick<AttemptEntity, 'jobId' | 'number'>): Promise<void> {
    await this.cache.release(attemptFolder(attempt));
  }

  /** Drops what a stopped process left: fetches half done, and the folders of attempts no longer live. */
  async prune(live: ReadonlyArray<Pick<AttemptEntity, 'jobId' | 'number'>>): Promise<void> {
    await this.cache.prune(new Set(live.map(attemptFolder)));
  }

  private async resolve(projectId: string, input: DatasetInputSpec, index: number, token: string): Promise<ResolvedInput> {
    const reference = input.resolvedReference ?? input.reference;
    const fail = (why: string) => new DatasetInputError(`spec.inputs[${index}] ${reference}: ${why}`);
    const { version } = await this.clients
      .of(DataServiceDesc, 'data')
      .resolveDatasetReference({ projectId, reference }, { token })
      .catch((error: Error) => Promise.reject(fail(`the data service could not resolve it for the submitter: ${error.message}`)));
    if (!version || !DATASET_ID.test(version.datasetId)) throw fail('the data service answered no version');
    return { datasetId: version.datasetId, version: Number(version.version), datasetName: version.datasetName, input };
  }

  /** Writes the version's files into `dir`, from its tar archive as the data service streams it. */
  private async download(version: ResolvedInput, token: string, dir: string): Promise<void> {
    const stream = this.clients.of(BlobServiceDesc, 'data').downloadDatasetVersionTar({ datasetId: version.datasetId, version: BigInt(version.version) }, { token });
    const chunks = (async function* () {
      for await (const { chunk } of stream) yield chunk;
    })();
    try {
      for await (const file of tarFiles(chunks)) {
        const path = join(dir, file.path);
        await mkdir(dirname(path), { recursive: true });
        await pipeline(file.body, createWriteStream(path, { flags: 'wx' }));
      }
    } catch (error) {
      throw new DatasetInputError(`${version.input.resolvedReference ?? version.input.reference} could not be downloaded: ${(error as Error).message}`);
    }
  }

  /** The folder the attempt reads an input from: the cache's own for MOUNT, a writable copy of it for DOWNLOAD (made once, whole). */
  private async place(owner: string, version: CachedInput, index: number): Promise<string> {
    if (version.input.mode === 'MOUNT') return version.dir;
    const copy = join(this.cache.attemptDir(owner), String(index));
    if (await exists(copy)) return copy;
    const partial = `${copy}.partial`;
    await removeTree(partial);
    await copyWritable(version.dir, partial);
    await rename(partial, copy);
    return copy;
  }
}

function attemptFolder(attempt: Pick<AttemptEntity, 'jobId' | 'number'>): string {
  return `${attempt.jobId}.${attempt.number}`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
