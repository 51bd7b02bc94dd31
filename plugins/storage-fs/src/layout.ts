import { type BigIntStats, close, constants, open } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { InvalidKeyError, validateObjectKey } from '@trellis/plugin-sdk';
import { fstatBigint } from './staging';

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Where storage-fs keeps things under its root:
 * - `objects/<key>`: each object as a plain file at its key's path;
 * - `meta/<xx>/<sha256 of key>.json`: its sidecar (see `object-meta.ts`);
 * - `staging/tmp/`: files being written, renamed into place when whole;
 * - `staging/uploads/<upload id>/`: the parts of multipart uploads in progress.
 * storage-fs follows no symbolic link below the root: a key whose path passes through one is not
 * an object to read, and is refused for writing.
 */
export class StoreLayout {
  readonly objectsDir: string;
  readonly metaDir: string;
  readonly tmpDir: string;
  readonly uploadsDir: string;

  private constructor(readonly root: string) {
    this.objectsDir = join(root, 'objects');
    this.metaDir = join(root, 'meta');
    this.tmpDir = join(root, 'staging', 'tmp');
    this.uploadsDir = join(root, 'staging', 'uploads');
  }

  /** Creates the directories under `root` (an absolute path) and returns the layout of its real path. */
  static async prepare(root: string): Promise<StoreLayout> {
    await mkdir(root, { recursive: true });
    const layout = new StoreLayout(await realpath(root));
    for (const dir of [layout.objectsDir, layout.metaDir, layout.tmpDir, layout.uploadsDir]) await mkdir(dir, { recursive: true });
    return layout;
  }

  /**
   * The file of `key`. Checks the key's rules first (nothing touches the disk for a refused key),
   * then that the path it joins to stays under `objects/`.
   */
  objectPath(key: string): string {
    validateObjectKey(key);
    const path = join(this.objectsDir, ...key.split('/'));
    const rel = relative(this.objectsDir, path);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new InvalidKeyError(key, 'it resolves outside the store root');
    }
    return path;
  }

  /** The key of a file under `objects/`. */
  keyOf(path: string): string {
    return relative(this.objectsDir, path).split(sep).join('/');
  }

  /** Whether the directory `dir` (under `objects/`) is reached without passing a symbolic link. */
  async isRealDir(dir: string): Promise<boolean> {
    try {
      return (await realpath(dir)) === dir;
    } catch {
      return false;
    }
  }

  /**
   * Opens the object file of `key` for reading (a descriptor the caller closes), or gives undefined
   * when there is no object there: missing, a directory, or reached through a symbolic link.
   */
  async openObject(key: string): Promise<{ fd: number; stats: BigIntStats } | undefined> {
    const path = this.objectPath(key);
    if (!(await this.isRealDir(dirname(path)))) return undefined;
    let fd: number;
    try {
      fd = await promisify(open)(path, constants.O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
    const stats = await fstatBigint(fd);
    if (!stats.isFile()) {
      await promisify(close)(fd);
      return undefined;
    }
    return { fd, stats };
  }

  /**
   * Makes the parent directories of `key`'s file. Refuses, with `InvalidKeyError`, a key whose path
   * passes through a symbolic link or through an existing object (`a` is an object, so `a/b` cannot
   * be), checking before it creates anything.
   */
  async makeParents(key: string, path: string): Promise<void> {
    const parent = dirname(path);
    let existing = parent;
    for (;;) {
      try {
        const stats = await lstat(existing);
        if (stats.isSymbolicLink()) throw symlinkRefusal(key, this.keyOf(existing));
        if (!stats.isDirectory()) {
          const blocker = this.keyOf(existing);
          throw new InvalidKeyError(key, `"${blocker}" is an object, and storage-fs cannot hold objects under another object's key`);
        }
        break;
      } catch (err) {
        if (!['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        existing = dirname(existing);
      }
    }
    if (!(await this.isRealDir(existing))) throw symlinkRefusal(key, this.keyOf(existing));
    await mkdir(parent, { recursive: true });
  }
}

function symlinkRefusal(key: string, at: string): InvalidKeyError {
  return new InvalidKeyError(key, `its path passes through a symbolic link ("${at}" or above it in the store root), which storage-fs does not follow`);
}
