import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configPath } from '../config-store';
import type { LocalFile } from './local-files';

/** What is remembered of a file: the stat it had when it was hashed, and the digest. */
interface CachedDigest {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** The most files remembered; the least recently used go first (a cache of 100,000 files is about 20 MB). */
const MAX_ENTRIES = 100_000;
/** How often at most `saveSoon` writes the file: many large files each finishing an upload rewrite it once a second, not per file. */
const SAVE_EVERY_MS = 1000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The sha256 of the files pushed from this machine, by absolute path, next to the CLI's profiles
 * (`digests.json` in TRELLIS_CONFIG_DIR or ~/.config/trellis, 0600), so that a push of files
 * unchanged since (same size, modification time and inode) reads none of them. A file edited in
 * place gets a new modification time, one replaced by another (a copy, a checkout) a new inode.
 * Saving merges into what is on disk, so two pushes at once lose at most a few entries (files
 * that are then hashed again, never a wrong digest).
 */
export class DigestCache {
  private readonly path: string;
  private readonly entries: Map<string, CachedDigest>;
  private readonly changed = new Map<string, CachedDigest>();
  private savedAt = 0;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.path = join(dirname(configPath(env)), 'digests.json');
    this.entries = this.read();
  }

  /** The digest of `file` when it is unchanged since it was hashed. */
  get(file: LocalFile): string | undefined {
    const cached = this.entries.get(file.source);
    const unchanged = cached && cached.size === file.size && cached.mtimeMs === file.mtimeMs && cached.ino === file.ino;
    return unchanged && SHA256_HEX.test(cached.sha256) ? cached.sha256 : undefined;
  }

  /** Remembers `sha256` for `file` as it was listed (a file changed since has another stat, so it is hashed again next time). */
  set(file: LocalFile, sha256: string): void {
    this.changed.set(file.source, { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino, sha256 });
  }

  /** Writes what changed, unless the last write was less than a second ago. */
  saveSoon(): void {
    if (Date.now() - this.savedAt >= SAVE_EVERY_MS) this.save();
  }

  /** Writes what changed since the last save, merged into the file as it is now. */
  save(): void {
    if (this.changed.size === 0) return;
    const merged = this.read();
    for (const [source, entry] of this.changed) {
      // Deleted first, so that the entry moves to the end: the most recently used are kept longest.
      merged.delete(source);
      merged.set(source, entry);
    }
    for (const source of merged.keys()) {
      if (merged.size <= MAX_ENTRIES) break;
      merged.delete(source);
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ files: Object.fromEntries(merged) }), { mode: 0o600 });
    renameSync(temporary, this.path);
    this.changed.clear();
    this.savedAt = Date.now();
  }

  private read(): Map<string, CachedDigest> {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { files?: Record<string, CachedDigest> };
      return new Map(Object.entries(parsed.files ?? {}));
    } catch {
      return new Map();
    }
  }
}
