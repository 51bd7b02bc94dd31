// Edits of files the repository already has (registrations of a new service or plugin), and the
// workspace links npm would make. Every edit is computed, and its anchor checked, before anything
// is written, so a generator that refuses leaves the repository as it was.
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * `text` with `insertion` put before the first occurrence of `anchor` (or after it, with
 * `{ after: true }`). Throws naming `file` when the anchor is missing: the file changed shape
 * and the generator must learn it.
 */
export function insertAt(text, anchor, insertion, file, { after = false } = {}) {
  const at = text.indexOf(anchor);
  if (at < 0) throw new Error(`${file} no longer contains ${JSON.stringify(anchor)}; update tools/generators to its new shape`);
  const cut = after ? at + anchor.length : at;
  return `${text.slice(0, cut)}${insertion}${text.slice(cut)}`;
}

/** `text` with `pattern`'s first match replaced by `replace(match)`; throws naming `file` when there is none. */
export function replaceMatch(text, pattern, replace, file) {
  const match = pattern.exec(text);
  if (!match) throw new Error(`${file} no longer matches ${pattern}; update tools/generators to its new shape`);
  return `${text.slice(0, match.index)}${replace(match)}${text.slice(match.index + match[0].length)}`;
}

/**
 * `text` with the one-line import `line` of `specifier` put among the file's one-line imports in
 * order of their specifiers (after the last when it sorts last), as they are written by hand.
 */
export function addImport(text, line, specifier, file) {
  const imports = [...text.matchAll(/^import [^\n]* from '([^']+)';$/gm)];
  if (imports.length === 0) throw new Error(`${file} has no one-line import to put ${JSON.stringify(line)} beside; update tools/generators to its new shape`);
  const next = imports.find((match) => match[1].localeCompare(specifier, 'en') > 0);
  const at = next ? next.index : imports[imports.length - 1].index + imports[imports.length - 1][0].length + 1;
  return `${text.slice(0, at)}${line}\n${text.slice(at)}`;
}

/** `text` with `name` added, in alphabetical order, to the names of its multi-line `import { ... } from 'specifier'`. */
export function addImportedName(text, name, specifier, file) {
  const pattern = new RegExp(`import \\{\\n([^}]*)\\} from '${specifier.replace(/[/.]/g, '\\$&')}';`);
  return replaceMatch(
    text,
    pattern,
    (match) => {
      const names = [...match[1].split(',').map((entry) => entry.trim()).filter(Boolean), name].sort((a, b) => a.localeCompare(b, 'en'));
      return `import {\n${names.map((entry) => `  ${entry},\n`).join('')}} from '${specifier}';`;
    },
    file,
  );
}

/** Computes every edit (`{ path, edit(text) }`) in memory; throws before writing if any of them cannot be made. */
export function planEdits(root, edits) {
  const texts = new Map();
  for (const { path, edit } of edits) {
    const before = texts.get(path) ?? readFileSync(join(root, path), 'utf8');
    texts.set(path, edit(before, path));
  }
  return [...texts].map(([path, text]) => ({ path, text }));
}

/** Writes planned edits. */
export function writeEdits(root, planned) {
  for (const { path, text } of planned) writeFileSync(join(root, path), text);
}

/** An edit of tsconfig.base.json mapping `alias` to `target`, which is how @trellis/* imports resolve in tsc and jest. */
export function tsconfigPath(alias, target) {
  return {
    path: 'tsconfig.base.json',
    edit(text, file) {
      const config = JSON.parse(text);
      if (config.compilerOptions.paths[alias]) throw new Error(`${file} already maps ${alias}`);
      config.compilerOptions.paths[alias] = [target];
      return `${JSON.stringify(config, null, 2)}\n`;
    },
  };
}

/**
 * An edit of package-lock.json adding workspace packages (`{ dir, name, dependencies }`), as
 * `npm install` would record them, so that `npm ci` installs the same tree.
 */
export function lockedWorkspaces(packages) {
  return {
    path: 'package-lock.json',
    edit(text, file) {
      const lock = JSON.parse(text);
      for (const { dir, name, dependencies } of packages) {
        if (lock.packages[dir]) throw new Error(`${file} already has ${dir}`);
        lock.packages[dir] = { name, version: '0.1.0', ...(dependencies ? { dependencies } : {}) };
        lock.packages[`node_modules/${name}`] = { resolved: dir, link: true };
      }
      // npm keeps the entries in this order; the root package ("") sorts first.
      lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => a.localeCompare(b, 'en')));
      return `${JSON.stringify(lock, null, 2)}\n`;
    },
  };
}

/** Links `node_modules/<name>` to the workspace folder `dir`, as npm does for workspaces, so the new package resolves at run time without a reinstall. */
export function linkWorkspace(root, name, dir) {
  const link = join(root, 'node_modules', name);
  if (!existsSync(join(link, '..')) || existsSync(link)) return;
  symlinkSync(relative(join(link, '..'), join(root, dir)), link);
}

/** The highest `defaultPort` among the services defined in libs/<svc>/src/<svc>.definition.ts. */
export function highestServicePort(root) {
  const ports = readdirSync(join(root, 'libs')).flatMap((lib) => {
    const file = join(root, 'libs', lib, 'src', `${lib}.definition.ts`);
    if (!existsSync(file)) return [];
    return [...readFileSync(file, 'utf8').matchAll(/defaultPort:\s*(\d+)/g)].map((match) => Number(match[1]));
  });
  if (ports.length === 0) throw new Error('found no service definition (libs/<svc>/src/<svc>.definition.ts with a defaultPort) to number the new port after');
  return Math.max(...ports);
}
