import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StagedFile } from './staging';

/**
 * What storage-fs records next to an object: its SHA-256, and the identity of the file it was
 * computed for (inode, size, modification time in ns; a rename keeps all three). A sidecar that does
 * not match the file beside it (a crash between the two renames, a writer from another process)
 * is ignored and the hash computed again.
 */
export interface ObjectMeta {
  sha256: string;
  size: number;
  ino: string;
  mtimeNs: string;
}

/** The identity of a file as `stat(..., { bigint: true })` gives it. */
export interface FileIdentity {
  ino: bigint;
  size: bigint | number;
  mtimeNs: bigint;
}

/** Sidecars live in a flat, hashed tree so that no key's directories can collide with them. */
export function metaPathFor(metaDir: string, key: string): string {
  const digest = createHash('sha256').update(key).digest('hex');
  return join(metaDir, digest.slice(0, 2), `${digest}.json`);
}

/** The sidecar's content for a staged file. */
export function metaOf(staged: StagedFile): ObjectMeta {
  return { sha256: staged.sha256, size: staged.size, ino: String(staged.ino), mtimeNs: String(staged.mtimeNs) };
}

/** The recorded SHA-256 when the sidecar at `path` describes exactly `file`, else undefined. */
export async function recordedSha256(path: string, file: FileIdentity): Promise<string | undefined> {
  let meta: Partial<ObjectMeta>;
  try {
    meta = JSON.parse(await readFile(path, 'utf8')) as Partial<ObjectMeta>;
  } catch {
    return undefined;
  }
  const matches = meta.ino === String(file.ino) && meta.size === Number(file.size) && meta.mtimeNs === String(file.mtimeNs);
  return matches && typeof meta.sha256 === 'string' ? meta.sha256 : undefined;
}

/** Writes a sidecar next to the temp files (`tmpPath`), to be renamed into place by `commitMeta`. */
export async function stageMeta(tmpPath: string, meta: ObjectMeta): Promise<string> {
  await writeFile(tmpPath, JSON.stringify(meta), { flag: 'wx' });
  return tmpPath;
}

/** Moves a staged sidecar to `path`, replacing the one there. */
export async function commitMeta(staged: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rename(staged, path);
}

/** Removes the sidecar at `path`, if any. */
export async function removeMeta(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
