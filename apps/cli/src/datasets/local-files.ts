import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { CliError, EXIT } from '../exit-codes';

/** A file to push: where it is on disk, the path it gets in the version, its size, and what tells it changed since it was last hashed. */
export interface LocalFile {
  source: string;
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A LocalFile with the sha256 of its bytes. */
export interface HashedFile extends LocalFile {
  sha256: string;
}

/** Reads for hashing: 4 MiB hashed ~13% faster than 1 MiB here (1 GiB: 650 ms against 740 ms). */
const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/** The longest path a version takes, in bytes (the storage key rules). */
const MAX_PATH_BYTES = 1024;

/**
 * The files `paths` name, as a version's files: a directory's files by their paths relative to
 * it (`data/` pushes `data/a.csv` as `a.csv`, as `tar -C data .` would), a file by its name.
 * Links to files are followed; a link to a directory is refused (it could loop), as is anything
 * that is not a regular file or a directory. In path order (bytewise), as versions list them.
 */
export function localFiles(paths: readonly string[]): LocalFile[] {
  const files: LocalFile[] = [];
  for (const given of paths) {
    const source = resolve(given);
    const stats = statOrFail(source, given);
    if (stats.isDirectory()) collect(source, source, files);
    else if (stats.isFile()) files.push(localFile(source, basename(source), stats));
    else throw new CliError(`${excerpt(given)}: not a regular file or a directory`, EXIT.invalidArgument);
  }
  files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (let i = 1; i < files.length; i += 1) {
    if (files[i].path === files[i - 1].path) {
      throw new CliError(`two files would have the path ${excerpt(files[i].path)} in the version (${excerpt(files[i - 1].source)} and ${excerpt(files[i].source)}): push them from different directories`, EXIT.invalidArgument);
    }
  }
  for (const file of files) checkPath(file);
  return files;
}

function collect(root: string, dir: string, into: LocalFile[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const source = join(dir, entry.name);
    const path = relative(root, source).split(sep).join('/');
    if (entry.isDirectory()) {
      collect(root, source, into);
      continue;
    }
    const stats = entry.isSymbolicLink() ? statOrFail(source, source) : lstatSync(source);
    if (stats.isFile()) into.push(localFile(source, path, stats));
    else if (stats.isDirectory()) throw new CliError(`${excerpt(source)} links to a directory, which push does not follow: push that directory itself`, EXIT.invalidArgument);
    else throw new CliError(`${excerpt(source)}: not a regular file or a directory (a socket, a device or a pipe)`, EXIT.invalidArgument);
  }
}

function localFile(source: string, path: string, stats: Stats): LocalFile {
  return { source, path, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
}

function statOrFail(source: string, given: string) {
  try {
    return statSync(source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${excerpt(given)}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code})`}`, code === 'ENOENT' ? EXIT.notFound : EXIT.failed);
  }
}

/** Refuses, before any byte is read, a path the version could not hold. */
function checkPath(file: LocalFile): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(file.path)) throw new CliError(`${excerpt(file.source)}: a version's paths may hold no control character or backslash; rename the file`, EXIT.invalidArgument);
  if (Buffer.byteLength(file.path) > MAX_PATH_BYTES) throw new CliError(`${excerpt(file.source)}: its path in the version is over ${MAX_PATH_BYTES} bytes; push from a deeper directory`, EXIT.invalidArgument);
}

/**
 * The sha256 of a file, read as a stream (memory stays flat whatever its size); `onBytes` hears of
 * each chunk read. A file whose size changed since it was listed is refused: its digest would not
 * match what a later upload sends.
 */
export async function hashFile(file: LocalFile, onBytes: (bytes: number) => void): Promise<HashedFile> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(file.source, { highWaterMark: HASH_CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
    onBytes((chunk as Buffer).length);
  }
  if (read !== file.size) throw new CliError(`${excerpt(file.source)} changed while it was read (${file.size} bytes listed, ${read} read): push again once it is written`, EXIT.failed);
  return { ...file, sha256: hash.digest('hex') };
}

/** The start of a path or a name, for a message (never a user's whole input). */
export function excerpt(text: string, length = 120): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
