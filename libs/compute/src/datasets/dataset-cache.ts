import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeReadOnly, removeTree, treeBytes } from './file-trees';

/** A dataset version as the cache keeps it. */
export interface CachedVersion {
  datasetId: string;
  version: number;
}

/** Folders of the cache that hold no version: versions being fetched, and what each live attempt holds. */
const PARTIAL = '.partial';
const ATTEMPTS = '.attempts';
const PINS = 'pins.json';

const keyOf = (version: CachedVersion) => `${version.datasetId}/${version.version}`;
const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Dataset versions on local disk, each fetched once into `<root>/<datasetId>/<version>/` and kept
 * read-only. A version is filled in a folder of its own under `.partial` and renamed into place
 * whole, so no reader ever sees part of one; callers asking for a version being fetched wait for
 * that fetch. Each attempt records the versions it reads (`.attempts/<attempt>/pins.json`) before
 * it asks for them; beyond `maxBytes` (0: no bound) the least recently used versions that no
 * attempt holds are removed. One process uses a cache: lookups, renames and removals are
 * serialized within it.
 */
export class DatasetCache {
  /** Fetches under way, by version key. */
  private readonly filling = new Map<string, Promise<void>>();
  /** Bytes of each version seen, by key, so eviction walks each tree once. */
  private readonly sizes = new Map<string, number>();
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly maxBytes: number,
  ) {}

  /** The folder of an attempt: its pins and its writable copies. */
  attemptDir(attempt: string): string {
    return join(this.root, ATTEMPTS, attempt);
  }

  /** Records the versions an attempt reads, so they are not evicted while it lives; replaces what it recorded before. */
  async pin(attempt: string, versions: readonly CachedVersion[]): Promise<void> {
    const dir = this.attemptDir(attempt);
    await mkdir(dir, { recursive: true });
    const temporary = join(dir, `${PINS}.${randomUUID()}`);
    await writeFile(temporary, JSON.stringify(versions.map(keyOf)));
    await rename(temporary, join(dir, PINS));
  }

  /**
   * The read-only folder of a version, counted as used now; when the cache lacks it, `fill` writes
   * its files into an empty folder first (one fill however many ask at once). A fill that fails
   * leaves nothing behind.
   */
  async version(version: CachedVersion, fill: (dir: string) => Promise<void>): Promise<string> {
    const key = keyOf(version);
    const dir = join(this.root, key);
    if (await this.exclusive(() => this.touch(dir))) return dir;
    let filling = this.filling.get(key);
    if (!filling) {
      filling = this.fetch(key, dir, fill).finally(() => this.filling.delete(key));
      this.filling.set(key, filling);
    }
    await filling;
    return dir;
  }

  /** Drops what an attempt held: its pins and its copies. */
  async release(attempt: string): Promise<void> {
    await removeTree(this.attemptDir(attempt));
  }

  /** Drops fetches a stopped process left half done, and the folders of attempts not in `live`. */
  async prune(live: ReadonlySet<string>): Promise<void> {
    await removeTree(join(this.root, PARTIAL));
    for (const attempt of await this.list(join(this.root, ATTEMPTS))) {
      if (!live.has(attempt)) await this.release(attempt);
    }
  }

  private async fetch(key: string, dir: string, fill: (dir: string) => Promise<void>): Promise<void> {
    const partial = join(this.root, PARTIAL, `${key.replace('/', '.')}.${randomUUID()}`);
    await mkdir(partial, { recursive: true });
    try {
      await fill(partial);
      await mkdir(join(dir, '..'), { recursive: true });
      // Renamed, then made read-only, in one turn: a directory without write bits cannot move to another parent.
      await this.exclusive(async () => {
        if (await this.touch(dir)) return removeTree(partial);
        await rename(partial, dir);
        await makeReadOnly(dir);
        this.sizes.set(key, await treeBytes(dir));
      });
    } catch (error) {
      await removeTree(partial);
      throw error;
    }
    await this.exclusive(() => this.evict());
  }

  /** Marks a version used now; false when the cache lacks it. */
  private async touch(dir: string): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(dir, now, now);
      return true;
    } catch (error) {
      if (missing(error)) return false;
      throw error;
    }
  }

  /** Removes the least recently used versions no attempt holds until the cache is within its bound. */
  private async evict(): Promise<void> {
    if (this.maxBytes === 0) return;
    const held = await this.held();
    const versions: Array<{ key: string; bytes: number; usedAt: number }> = [];
    for (const datasetId of await this.list(this.root)) {
      if (datasetId.startsWith('.')) continue;
      for (const version of await this.list(join(this.root, datasetId))) {
        const key = `${datasetId}/${version}`;
        const bytes = this.sizes.get(key) ?? (await treeBytes(join(this.root, key)));
        this.sizes.set(key, bytes);
        versions.push({ key, bytes, usedAt: (await stat(join(this.root, key))).mtimeMs });
      }
    }
    let total = versions.reduce((sum, { bytes }) => sum + bytes, 0);
    for (const { key, bytes } of versions.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total <= this.maxBytes) return;
      if (held.has(key)) continue;
      await removeTree(join(this.root, key));
      this.sizes.delete(key);
      total -= bytes;
    }
  }

  /** The versions some attempt holds. */
  private async held(): Promise<Set<string>> {
    const held = new Set<string>();
    for (const attempt of await this.list(join(this.root, ATTEMPTS))) {
      try {
        for (const key of JSON.parse(await readFile(join(this.attemptDir(attempt), PINS), 'utf8')) as string[]) held.add(key);
      } catch (error) {
        if (!missing(error)) throw error;
      }
    }
    return held;
  }

  private async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if (missing(error)) return [];
      throw error;
    }
  }

  /** Runs `work` after every earlier exclusive work of this cache has ended. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.serial.then(work);
    this.serial = result.catch(() => undefined);
    return result;
  }
}
