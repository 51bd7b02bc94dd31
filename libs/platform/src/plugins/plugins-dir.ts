import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { PluginKind } from '@trellis/plugin-sdk';
import { PluginLoadError } from './plugin-errors';
import { importPluginPackage } from './plugin-loader';
import type { PluginRegistry } from './plugin-registry';

/** Where a loaded plugin package came from. */
export type PluginOrigin = 'plugins directory' | 'plugins list';

/** One plugin package loaded at start, as the start-up log reports it. */
export interface LoadedPluginPackage {
  kind: PluginKind;
  /** The plugin's id (`manifest.id`), which instances name. */
  id: string;
  /** As listed in `plugins`, or the package's directory when found in the plugins directory. */
  packageName: string;
  /** The directory of its package.json. */
  packageDir: string;
  origin: PluginOrigin;
}

/** What `loadPluginPackages` loads, and where from. */
export interface PluginPackagesOptions {
  /** npm package names or package directories, as in the `plugins` setting. */
  packages: readonly string[];
  /**
   * The plugins directory (`pluginsDir`): every plugin package directly in it, or in its
   * node_modules, is loaded; listed names are resolved from it first. None when absent.
   */
  pluginsDir?: string | undefined;
  /** Where listed names resolve after the plugins directory: the program's installation. Default: the working directory. */
  programDir?: string;
  /** Told one line per package loaded: kind, id, package, origin and directory. */
  logger?: { info(obj: object, msg?: string): void };
}

/**
 * Loads the plugin packages of a process into `registry`: first every plugin package found in the
 * plugins directory (see `findPluginPackages`), then each name of the `plugins` list, resolved from
 * the plugins directory first, then from `programDir`. A listed package that the plugins directory
 * already provided is loaded once. Throws `PluginLoadError` at the first package refused (naming
 * it and why), or when the plugins directory cannot be read.
 */
export async function loadPluginPackages(registry: PluginRegistry, options: PluginPackagesOptions): Promise<LoadedPluginPackage[]> {
  const pluginsDir = options.pluginsDir === undefined ? undefined : resolve(options.pluginsDir);
  const loaded: LoadedPluginPackage[] = [];
  const loadedDirs = new Set<string>();
  const load = async (packageName: string, origin: PluginOrigin, resolveFrom: string[]) => {
    const imported = await importPluginPackage(packageName, { resolveFrom });
    const dir = await realpath(imported.packageDir);
    if (loadedDirs.has(dir)) return;
    loadedDirs.add(dir);
    registry.register(imported.plugin, packageName);
    const { kind, id } = imported.plugin.manifest;
    const entry: LoadedPluginPackage = { kind, id, packageName, packageDir: imported.packageDir, origin };
    loaded.push(entry);
    options.logger?.info({ kind, plugin: id, package: packageName, from: origin, dir: imported.packageDir }, `loaded ${kind} plugin ${id} from the ${origin}`);
  };

  if (pluginsDir !== undefined) {
    for (const packageDir of await findPluginPackages(pluginsDir)) await load(packageDir, 'plugins directory', [pluginsDir]);
  }
  const resolveFrom = [...(pluginsDir === undefined ? [] : [pluginsDir]), resolve(options.programDir ?? process.cwd())];
  for (const name of options.packages) await load(name, 'plugins list', resolveFrom);
  return loaded;
}

/**
 * The plugin packages in a plugins directory, in a stable order: the package folders directly in
 * it (dropped there), then the packages in its node_modules, scoped ones too (`npm install
 * --prefix <dir> <package>`). A plugin package is one whose package.json has `"trellis": { "kind" }`;
 * others (the SDK, zod, other dependencies) are skipped. Throws `PluginLoadError` when the
 * directory is missing or unreadable, or a package.json there is not JSON.
 */
export async function findPluginPackages(pluginsDir: string): Promise<string[]> {
  const root = resolve(pluginsDir);
  const unreadable = (why: string) =>
    new PluginLoadError(root, 'not-found', `the plugins directory (pluginsDir, TRELLIS_PLUGINS_DIR) cannot be read: ${why}; create it, or unset the setting`);
  try {
    if (!(await stat(root)).isDirectory()) throw unreadable('it is not a directory');
  } catch (error) {
    if (error instanceof PluginLoadError) throw error;
    throw unreadable((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message);
  }
  const dropped = (await packageFolders(root)).filter((dir) => basename(dir) !== 'node_modules');
  const modules = join(root, 'node_modules');
  const installed: string[] = [];
  for (const dir of await packageFolders(modules)) {
    const name = dir.slice(modules.length + 1);
    if (name.startsWith('@')) installed.push(...(await packageFolders(dir)));
    else installed.push(dir);
  }
  const plugins: string[] = [];
  for (const dir of [...dropped, ...installed]) if (await isPluginPackage(dir)) plugins.push(dir);
  return plugins;
}

/** The folders (or links to folders) directly in `dir`, sorted, without hidden ones; none when `dir` is missing. */
async function packageFolders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const folders: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if ((await stat(path).catch(() => undefined))?.isDirectory()) folders.push(path);
  }
  return folders;
}

async function isPluginPackage(dir: string): Promise<boolean> {
  const path = join(dir, 'package.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return false;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PluginLoadError(dir, 'not-a-plugin', `its package.json (${path}) is not JSON: ${(error as Error).message}`);
  }
  const trellis = (json as { trellis?: unknown } | null)?.trellis;
  return typeof trellis === 'object' && trellis !== null && 'kind' in trellis;
}
