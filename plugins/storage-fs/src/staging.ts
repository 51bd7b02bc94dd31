import { createHash, randomBytes } from 'node:crypto';
import { type BigIntStats, close, constants, createWriteStream, fstat, fsync, open } from 'node:fs';
import { copyFile, readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { ObjectBody, PluginLogger } from '@trellis/plugin-sdk';

/** A file fully written and fsynced in the staging area, ready to be renamed into place. */
export interface StagedFile {
  path: string;
  size: number;
  sha256: string;
  /** Identity of the file, kept by rename: how a sidecar proves it describes this content. */
  ino: bigint;
  mtimeNs: bigint;
}

// Temp names say who wrote them: `<pid>-<process token>-<random>@<host>.tmp`. The token tells a
// crashed earlier process apart from this one when a container restart reuses the pid.
const PROCESS_TOKEN = randomBytes(6).toString('hex');
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
const TEMP_NAME = /^(\d+)-([0-9a-f]{12})-[0-9a-f]{16}@(.+)\.tmp$/;
const FOREIGN_TEMP_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** A fresh temp file path in `tmpDir`. */
export function tempPath(tmpDir: string): string {
  return join(tmpDir, `${process.pid}-${PROCESS_TOKEN}-${randomBytes(8).toString('hex')}@${HOST}.tmp`);
}

/**
 * Streams `body` into a new temp file with backpressure, hashing on the way, then fsyncs it.
 * On any failure (the body errors, `signal` aborts, the disk fills) the temp file is removed.
 */
export async function stageBody(tmpDir: string, body: ObjectBody | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StagedFile> {
  const path = tempPath(tmpDir);
  const hash = createHash('sha256');
  let size = 0;
  const source = body instanceof Uint8Array ? Readable.from([body]) : body;
  // A numeric descriptor with the callback API: FileHandle streams are markedly slower.
  const fd = await promisify(open)(path, 'wx');
  const sink = createWriteStream(path, { fd, autoClose: false });
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Uint8Array | string>) {
        for await (const chunk of chunks) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          hash.update(bytes);
          size += bytes.length;
          yield bytes;
        }
      },
      sink,
      { signal },
    );
  } catch (err) {
    // Destroying the sink (the failed pipeline has) closes the descriptor once its last write is done.
    if (!sink.closed) {
      const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
      sink.destroy();
      await closed;
    }
    await unlink(path).catch(() => undefined);
    throw err;
  }
  let staged: StagedFile;
  try {
    await promisify(fsync)(fd);
    const { ino, mtimeNs } = await fstatBigint(fd);
    staged = { path, size, sha256: hash.digest('hex'), ino, mtimeNs };
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  } finally {
    await promisify(close)(fd);
  }
  return staged;
}

/**
 * Copies the file at `source` into a new temp file inside the filesystem (a reflink where the
 * filesystem has them, else the kernel's copy), fsyncs it, and describes it with `sha256`, the
 * caller's record of the source's content. The caller checks that `source` did not change meanwhile.
 */
export async function stageFileCopy(tmpDir: string, source: string, sha256: string): Promise<StagedFile> {
  const path = tempPath(tmpDir);
  try {
    await copyFile(source, path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    const fd = await promisify(open)(path, 'r+');
    try {
      await promisify(fsync)(fd);
      const { ino, mtimeNs, size } = await fstatBigint(fd);
      return { path, size: Number(size), sha256, ino, mtimeNs };
    } finally {
      await promisify(close)(fd);
    }
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  }
}

/** `fstat` with nanosecond times and 64-bit inode numbers. */
export function fstatBigint(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (err, stats) => (err ? reject(err) : resolve(stats))));
}

/**
 * Removes temp files that crashed writes left behind: this host's files whose process is gone (or
 * is an earlier process with this pid), and any host's files older than a day. Files of writes
 * still running, in this or another process, stay. Returns how many were removed.
 */
export async function removeOrphanedTemps(tmpDir: string, logger: PluginLogger): Promise<number> {
  let removed = 0;
  for (const name of await readdir(tmpDir)) {
    const path = join(tmpDir, name);
    if (!(await isOrphaned(name, path))) continue;
    try {
      await unlink(path);
      removed++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ path, err }, 'could not remove a temp file of a crashed write');
    }
  }
  return removed;
}

async function isOrphaned(name: string, path: string): Promise<boolean> {
  const match = TEMP_NAME.exec(name);
  if (match && match[3] === HOST) {
    const [pid, token] = [Number(match[1]), match[2]];
    return pid === process.pid ? token !== PROCESS_TOKEN : !isAlive(pid);
  }
  try {
    return Date.now() - (await stat(path)).mtimeMs > FOREIGN_TEMP_MAX_AGE_MS;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
