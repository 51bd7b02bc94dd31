import type { CommitDatasetVersionResponseJson, CreateDatasetResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { DatasetJson, DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { extname } from 'node:path';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { BlobUploader, type BlobUpload } from './blob-upload';
import { ByteRoutes } from './byte-routes';
import { findDataset } from './dataset-ref';
import { interruptible } from './interrupt';
import { hashFile, localFiles, type HashedFile, type LocalFile } from './local-files';
import { formatBytes, startProgress, type Progress } from './transfer-progress';
import { UploadState } from './upload-state';

export interface PushOptions {
  message: string;
  tags: string[];
  /** Files larger than this many bytes go up in parts (of `partSize` bytes) that a rerun resumes. */
  partsOver: number;
  partSize: number;
  /** Create the dataset when the project has none of that name. */
  create: boolean;
}

/** What a push did: the version it committed and what it had to send for it. */
export interface PushResult {
  version: DatasetVersionJson;
  uploadedFiles: number;
  uploadedBytes: number;
  skippedFiles: number;
  seconds: number;
}

/** A commit message's batch of files: the call takes 10,000 a message and 4 MiB a line. */
const FILES_PER_MESSAGE = 10_000;
const BYTES_PER_MESSAGE = 3 * 1024 * 1024;

/** Media types by extension, for the few kinds of file the platform reads (profiles, previews). */
const MEDIA_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.ndjson': 'application/x-ndjson',
  '.parquet': 'application/vnd.apache.parquet',
  '.txt': 'text/plain',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

/**
 * Pushes files and directories as a new version of a dataset: hashes every file, asks the gateway
 * which contents the project lacks, sends only those, and commits the version from the manifest
 * (exactly the files pushed, on the latest version as its parent). Everything the gateway
 * acknowledged stays there, so a push run again after an interruption sends only the rest.
 * Progress goes to stderr when it is a terminal; notes (what is skipped, what resumes) always do.
 */
export async function pushDataset(ctx: CliContext, name: string, paths: readonly string[], options: PushOptions): Promise<PushResult> {
  const files = localFiles(paths);
  if (files.length === 0) throw new CliError('nothing to push: the paths hold no files', EXIT.invalidArgument);
  const client = ctx.client();
  const { url, apiKey } = ctx.credentials();
  const started = Date.now();
  // Hashing (local) and finding the project and dataset (round trips) go on at once.
  const hashing = startProgress('hashing', files.reduce((sum, file) => sum + file.size, 0));
  const hashes = hashAll(files, hashing);
  const target = ctx.projectId().then(async (projectId) => ({ projectId, dataset: await datasetToPush(ctx, projectId, name, options.create) }));
  const [hashed, { projectId, dataset }] = await Promise.all([hashes, target]).finally(() => hashing.stop());
  const bytes = new ByteRoutes(url, apiKey);
  const state = new UploadState(url);
  const uploader = new BlobUploader(client, bytes, state, projectId, options);
  try {

    const missing = await uploader.missing(hashed.map((file) => file.sha256));
    const resuming = state.pushUnderway(dataset.id ?? '');
    const plans: BlobUpload[] = [];
    const planned = new Set<string>();
    for (const file of hashed) {
      if (!missing.has(file.sha256) || planned.has(file.sha256)) continue;
      planned.add(file.sha256);
      const plan = await uploader.plan(file);
      if (plan) plans.push(plan);
    }
    const toSend = plans.reduce((sum, plan) => sum + plan.remaining, 0);
    const skippedFiles = hashed.filter((file) => !missing.has(file.sha256)).length;
    note(describePlan(hashed.length, skippedFiles, plans, toSend, resuming));

    state.setPushUnderway(dataset.id ?? '', true);
    const uploading = startProgress('uploading', toSend);
    const resumeHint = 'what the gateway acknowledged is kept; run the same push again to send only the rest';
    await interruptible(uploading, resumeHint, () => uploader.upload(plans, uploading)).catch((error: unknown) => {
      note(`upload stopped: ${resumeHint}`);
      throw error;
    });
    const version = await commit(ctx, dataset, hashed, options);
    state.setPushUnderway(dataset.id ?? '', false);
    return { version, uploadedFiles: plans.length, uploadedBytes: toSend, skippedFiles, seconds: (Date.now() - started) / 1000 };
  } finally {
    bytes.close();
  }
}

async function hashAll(files: readonly LocalFile[], progress: Progress): Promise<HashedFile[]> {
  const hashed: HashedFile[] = [];
  for (const file of files) hashed.push(await hashFile(file, progress.add));
  return hashed;
}

/** The dataset to push to; created first with `--create`, else a missing one says how to create it. */
async function datasetToPush(ctx: CliContext, projectId: string, name: string, create: boolean): Promise<DatasetJson> {
  try {
    return await findDataset(ctx.client(), projectId, name);
  } catch (error) {
    if (!create || !(error instanceof CliError) || error.exitCode !== EXIT.notFound) throw error;
    const { dataset } = await ctx.client().call<CreateDatasetResponseJson>('trellis.data.v1.DataService/CreateDataset', { projectId, name });
    note(`created dataset ${name}`);
    return dataset ?? {};
  }
}

/** The note a push prints before it sends: how much is stored already, and what it resumes. */
function describePlan(files: number, skipped: number, plans: readonly BlobUpload[], toSend: number, resuming: boolean): string {
  const partsKept = plans.reduce((sum, plan) => sum + (plan.kind === 'parts' ? plan.stored.size : 0), 0);
  const kept = partsKept > 0 ? `, ${partsKept} parts of unfinished files` : '';
  if (plans.length === 0) return `nothing to upload: all ${files} files are on the gateway already`;
  const stored = resuming ? `resuming: ${skipped} of ${files} files already uploaded${kept}` : `${skipped} of ${files} files already stored${kept}`;
  return `${stored}; uploading ${plans.length} file${plans.length === 1 ? '' : 's'} (${formatBytes(toSend)})`;
}

/** Commits the version as CommitDatasetVersion's NDJSON stream: the header, then the files in batches. */
async function commit(ctx: CliContext, dataset: DatasetJson, files: readonly HashedFile[], options: PushOptions): Promise<DatasetVersionJson> {
  const parentVersion = dataset.latestVersion ?? '0';
  const header = { datasetId: dataset.id, parentVersion, message: options.message, tags: options.tags, fullManifest: parentVersion !== '0' };
  const lines = [JSON.stringify({ header })];
  let batch: string[] = [];
  let batchBytes = 0;
  const flush = () => {
    if (batch.length > 0) lines.push(`{"changes":{"put":[${batch.join(',')}]}}`);
    batch = [];
    batchBytes = 0;
  };
  for (const file of files) {
    const entry = JSON.stringify({ path: file.path, sizeBytes: String(file.size), sha256: file.sha256, mediaType: MEDIA_TYPES[extname(file.path).toLowerCase()] ?? '' });
    if (batch.length === FILES_PER_MESSAGE || batchBytes + entry.length > BYTES_PER_MESSAGE) flush();
    batch.push(entry);
    batchBytes += entry.length + 1;
  }
  flush();
  const answer = await ctx.client().json<CommitDatasetVersionResponseJson>('/v1/trellis.data.v1.DataService/CommitDatasetVersion', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: `${lines.join('\n')}\n`,
  });
  if (!answer.version) throw new CliError('the gateway answered the commit without a version', EXIT.failed);
  return answer.version;
}

/** A line for the person at the terminal, on stderr (stdout keeps the result, for scripts). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
