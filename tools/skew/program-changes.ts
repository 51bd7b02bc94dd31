import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Program } from '../e2e/distributed-platform';
import { thirdPartyDifferences } from './previous-release';

const ROOT = resolve(__dirname, '../..');

/**
 * Every file both builds of a program read, besides the third-party packages: the build's own
 * settings and script, and the folders of the workspace packages it runs. The root package.json
 * is not one: it only says what to install (the lock says what was), and every built file has its
 * package's own package.json nearer.
 */
const BUILD_FILES = ['.swcrc', 'tools/build.mjs'];

/** The workspace folders (apps/x, libs/x, plugins/x) by package name, as package-lock.json links them. */
function workspaceFolders(root: string): Map<string, string> {
  const { packages } = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean; resolved?: string }> };
  return new Map(
    Object.entries(packages).flatMap(([place, { link, resolved }]) => (link && resolved ? [[place.slice('node_modules/'.length), resolved] as [string, string]] : [])),
  );
}

/** The source files a package's build compiles (tools/build.mjs: src/, less specs and declarations). */
function* builtSources(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* builtSources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/**
 * The workspace folders a program runs: its app, every @trellis package its built sources name,
 * and theirs in turn, and every plugin (a program loads plugins by names from its settings). A
 * name built at run time (`@trellis/plugin-${kind}`) counts as every package it can make. A name
 * that is no workspace package's is no code of ours: requiring it would fail.
 */
export function programFolders(program: Program, root = ROOT): string[] {
  const folders = workspaceFolders(root);
  const plugins = [...folders].filter(([, folder]) => folder.startsWith('plugins/')).map(([name]) => name);
  const pending = [`@trellis/${program}-app`, ...plugins];
  const reached = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const folder = folders.get(name);
    if (folder === undefined || reached.has(folder)) continue;
    reached.add(folder);
    for (const file of builtSources(join(root, folder, 'src'))) {
      for (const [, named, template] of readFileSync(file, 'utf8').matchAll(/['"`](@trellis\/[a-z0-9-]*)(\$\{)?/g)) {
        pending.push(...(template ? [...folders.keys()].filter((other) => other.startsWith(named)) : [named]));
      }
    }
  }
  return [...reached].sort();
}

/**
 * What differs between a program's build at `commit` and its build from this working tree: files
 * changed or added under what it reads (tracked or not), and third-party packages. Empty: the two
 * builds are the same program.
 */
export function programChanges(program: Program, commit: string, root = ROOT): string[] {
  const paths = [...BUILD_FILES, ...programFolders(program, root)];
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  return [
    ...git('diff', '--name-only', commit, '--', ...paths),
    ...git('ls-files', '--others', '--exclude-standard', '--', ...paths),
    ...thirdPartyDifferences(commit, root).map((place) => `package-lock.json: ${place}`),
  ];
}
