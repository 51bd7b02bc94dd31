import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys, validateObjectKey } from '@trellis/plugin-sdk';

/** A file found by `walkKeys`. */
export interface FoundKey {
  key: string;
  path: string;
}

/**
 * The keys under `dir` (whose own key prefix is `dirKey`, '' or ending in '/') that start with
 * `prefix` and sort after `after`, in UTF-8 byte order, lazily. Sorting each directory's entries
 * with a '/' after directory names gives the global key order depth-first, so a page reads only
 * the directories it needs. Symbolic links and anything else that is not a file or directory are
 * skipped, as are names no valid key could have.
 */
export async function* walkKeys(dir: string, dirKey: string, prefix: string, after: string | undefined): AsyncGenerator<FoundKey> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  const items = entries
    .filter((e) => (e.isFile() || e.isDirectory()) && isValidKey(dirKey + e.name))
    .map((e) => ({ name: e.name, isDir: e.isDirectory(), sortKey: dirKey + e.name + (e.isDirectory() ? '/' : '') }))
    .sort((a, b) => compareKeys(a.sortKey, b.sortKey));

  for (const item of items) {
    const key = item.sortKey;
    if (item.isDir) {
      if (!key.startsWith(prefix) && !prefix.startsWith(key)) continue;
      // Every key below sorts before `after` when the directory's prefix does and `after` is not inside it.
      if (after !== undefined && compareKeys(key, after) < 0 && !after.startsWith(key)) continue;
      yield* walkKeys(join(dir, item.name), key, prefix, after);
    } else {
      if (!key.startsWith(prefix)) continue;
      if (after !== undefined && compareKeys(key, after) <= 0) continue;
      yield { key, path: join(dir, item.name) };
    }
  }
}

/** Whether `key` follows the contract's key rules. */
export function isValidKey(key: string): boolean {
  try {
    validateObjectKey(key);
    return true;
  } catch {
    return false;
  }
}

/** Cursors are the last key of a page, encoded so that callers treat them as opaque. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey).toString('base64url');
}

/** The last key of the previous page. */
export function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString();
}
