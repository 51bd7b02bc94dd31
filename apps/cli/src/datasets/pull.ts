import type { ListDatasetVersionFilesResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { DatasetFileJson, DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { ByteRoutes, routePath } from './byte-routes';
import { forEachConcurrently } from './concurrently';
import { parseVersionRef, resolveVersion } from './dataset-ref';
import { interruptible } from './interrupt';
import { excerpt } from './local-files';
import { note } from './push';
import { formatBytes } from '@trellis/client';
import { startProgress, type Progress } from './transfer-progress';

/** A partly downloaded file waits under its path with this suffix; a rerun continues it with a Range. */
export const PARTIAL_SUFFIX = '.trellis-partial';
const CONCURRENT_FILES = 4;

/** What a pull did: the version, where it went, and what it had to fetch. */
export interface PullResult {
  version: DatasetVersionJson;
  directory: string;
  downloadedFiles: number;
  downloadedBytes: number;
  keptFiles: number;
}

/** A file of the version and what is on disk of it already. */
interface Wanted {
  file: DatasetFileJson;
  size: number;
  target: string;
  /** Bytes of the partial file to continue from (0: start over). */
  from: number;
}

/**
 * Downloads a version's files into `directory`, each checked against its sha256: a file already
 * there with the right digest is kept, a partial one left by an interrupted pull is continued
 * from where it stopped (an HTTP Range), and a file is moved to its path only once it is whole
 * and checked. Progress goes to stderr when it is a terminal.
 */
export async function pullDataset(ctx: CliContext, refText: string, to: string | undefined): Promise<PullResult> {
  const ref = parseVersionRef(refText);
  const client = ctx.client();
  const projectId = await ctx.projectId();
  const version = await resolveVersion(client, projectId, ref);
  const directory = resolve(to ?? ref.name);
  const files = await versionFiles(ctx, version);

  const wanted: Wanted[] = [];
  let keptFiles = 0;
  let partial = 0;
  for (const file of files) {
    const target = targetOf(directory, file.path ?? '');
    const size = Number(file.sizeBytes ?? 0);
    if (sizeOf(target) === size && (await sha256Of(target)) === file.sha256) {
      keptFiles += 1;
      continue;
    }
    const started = sizeOf(`${target}${PARTIAL_SUFFIX}`) ?? 0;
    const from = started > 0 && started < size ? started : 0;
    if (from > 0) partial += 1;
    wanted.push({ file, size, target, from });
  }
  const toFetch = wanted.reduce((sum, item) => sum + item.size - item.from, 0);
  if (wanted.length === 0) note(`nothing to download: all ${files.length} files are here already`);
  else if (keptFiles > 0 || partial > 0) note(`resuming: ${keptFiles} of ${files.length} files already here${partial > 0 ? `, ${partial} partly` : ''}; downloading ${formatBytes(toFetch)}`);

  const { url, apiKey } = ctx.credentials();
  const bytes = new ByteRoutes(url, apiKey);
  const progress = startProgress('downloading', toFetch);
  const base = `/v1/data/datasets/${encodeURIComponent(version.datasetId ?? '')}/versions/${version.version}/files/`;
  try {
    await interruptible(progress, 'partial files are kept; run the same pull again to continue them', () =>
      forEachConcurrently(wanted, CONCURRENT_FILES, (item) => download(bytes, `${base}${routePath(item.file.path ?? '')}`, item, progress)),
    );
  } finally {
    bytes.close();
  }
  return { version, directory, downloadedFiles: wanted.length, downloadedBytes: toFetch, keptFiles };
}

/** Every file of a version, in path order. */
export async function versionFiles(ctx: CliContext, version: DatasetVersionJson): Promise<DatasetFileJson[]> {
  const files: DatasetFileJson[] = [];
  let pageToken = '';
  do {
    const page = await ctx.client().call<ListDatasetVersionFilesResponseJson>('trellis.data.v1.DataService/ListDatasetVersionFiles', { datasetId: version.datasetId, version: version.version, pageSize: 1000, pageToken });
    files.push(...(page.files ?? []));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return files;
}

/** Fetches one file into its partial file (continuing it), checks its digest and moves it to its path. */
async function download(bytes: ByteRoutes, route: string, item: Wanted, progress: Progress): Promise<void> {
  const partial = `${item.target}${PARTIAL_SUFFIX}`;
  mkdirSync(dirname(item.target), { recursive: true });
  const response = await bytes.get(route, item.from);
  // A server that ignored the Range sends the whole file: start it over.
  const from = response.statusCode === 206 ? item.from : 0;
  const hash = createHash('sha256');
  if (from > 0) await hashInto(hash, partial, from);
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      progress.add(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(response, counting, createWriteStream(partial, from > 0 ? { flags: 'r+', start: from } : { flags: 'w' }));
  const digest = hash.digest('hex');
  if (digest !== item.file.sha256) {
    rmSync(partial, { force: true });
    throw new CliError(`${excerpt(item.file.path ?? '')}: the bytes received have sha256 ${digest.slice(0, 12)}…, not the version's ${item.file.sha256?.slice(0, 12)}…; pull again`, EXIT.failed);
  }
  renameSync(partial, item.target);
}

/** Where a version's path goes under `directory`; a path that would leave it is refused. */
function targetOf(directory: string, path: string): string {
  const target = resolve(directory, path);
  if (!target.startsWith(`${directory}${sep}`)) throw new CliError(`the version holds a path outside its directory (${excerpt(path)}): not written`, EXIT.failed);
  return target;
}

function sizeOf(path: string): number | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, path, Number.POSITIVE_INFINITY);
  return hash.digest('hex');
}

/** Feeds a file's first `length` bytes (all of them when Infinity) into `hash`. */
async function hashInto(hash: Hash, path: string, length: number): Promise<void> {
  const options = Number.isFinite(length) ? { end: length - 1 } : {};
  for await (const chunk of createReadStream(path, { ...options, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
}
