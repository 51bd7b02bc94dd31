import { chmod, copyFile, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Write bits of owner, group and others. */
const WRITE_BITS = 0o222;

/** Every directory and file under `root` (itself included), children before their directory. */
async function* walk(root: string): AsyncGenerator<{ path: string; directory: boolean; size: number; mode: number }> {
  const stats = await lstat(root);
  if (stats.isDirectory()) {
    for (const name of await readdir(root)) yield* walk(join(root, name));
  }
  yield { path: root, directory: stats.isDirectory(), size: stats.size, mode: stats.mode };
}

/** Takes every write bit off the tree's files and directories, so a job that is not root cannot change it. */
export async function makeReadOnly(root: string): Promise<void> {
  for await (const entry of walk(root)) await chmod(entry.path, entry.mode & 0o7777 & ~WRITE_BITS);
}

/** Bytes of the tree's files. */
export async function treeBytes(root: string): Promise<number> {
  let bytes = 0;
  for await (const entry of walk(root)) if (!entry.directory) bytes += entry.size;
  return bytes;
}

/** Removes a tree, read-only parts included (its owner may not delete from a directory without write bits). */
export async function removeTree(root: string): Promise<void> {
  try {
    for await (const entry of walk(root)) if (entry.directory) await chmod(entry.path, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rm(root, { recursive: true, force: true });
}

/** Copies a tree, every file and directory writable by its owner whatever the source's modes. */
export async function copyWritable(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) {
      await copyWritable(from, to);
    } else {
      await copyFile(from, to);
      await chmod(to, ((await lstat(from)).mode & 0o7777) | 0o200);
    }
  }
}
