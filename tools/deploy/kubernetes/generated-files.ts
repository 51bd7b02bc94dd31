import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './values';

/**
 * Writes `files` (name -> text) into `dir` and removes the other files there with `extension`
 * (a program that went away), or with `check` only lists what differs: the stale files' paths.
 */
export function writeGenerated(dir: string, extension: string, files: Map<string, string>, keep: readonly string[], check: boolean): string[] {
  const stale: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) {
    const path = join(dir, name);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    stale.push(relative(ROOT, path));
    if (!check) writeFileSync(path, text);
  }
  for (const name of readdirSync(dir).filter((file) => file.endsWith(extension) && !files.has(file) && !keep.includes(file))) {
    stale.push(relative(ROOT, join(dir, name)));
    if (!check) rmSync(join(dir, name));
  }
  return stale;
}

/** Runs a generator from the command line: writes, or with `--check` exits 1 naming the stale files. */
export function runGenerator(what: string, generate: (check: boolean) => string[]): void {
  const check = process.argv.includes('--check');
  const stale = generate(check);
  if (check && stale.length > 0) {
    console.error(`${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} stale: run \`node tools/generate.mjs\` (${what}) and commit the result`);
    process.exit(1);
  }
  if (!check) console.log(`[trellis] ${what}: ${stale.length === 0 ? 'up to date' : `wrote ${stale.join(', ')}`}`);
}
