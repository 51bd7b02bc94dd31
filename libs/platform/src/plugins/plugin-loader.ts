import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type AnyPlugin, checkManifest, isPlugin, isPluginKind, PLUGIN_KINDS } from '@trellis/plugin-sdk';
import { PluginLoadError } from './plugin-errors';

/** Where plugin packages are looked up. */
export interface ImportPluginOptions {
  /**
   * The directories a package name is resolved from, tried in order, each as `require` from a file
   * in it would (its node_modules, then its parents'). A path (`./x`, `/x`) is always taken from
   * the working directory. Default: the working directory.
   */
  resolveFrom?: string | readonly string[];
}

/** A plugin package that passed every check but the registry's (duplicate ids). */
export interface ImportedPlugin {
  /** The package as listed in the configuration. */
  packageName: string;
  /** The directory of its package.json. */
  packageDir: string;
  /** Its default export. */
  plugin: AnyPlugin;
}

/**
 * Imports one plugin package listed in the configuration (an npm package name, or a path to a
 * package directory) and checks it: its default export is a plugin, its manifest is valid with a
 * known kind and a supported `apiVersion`, and its package.json's `trellis.kind` is the manifest's
 * kind. Throws `PluginLoadError` naming the package and the check that failed.
 */
export async function importPluginPackage(packageName: string, options: ImportPluginOptions = {}): Promise<ImportedPlugin> {
  const fail = (failure: ConstructorParameters<typeof PluginLoadError>[1], message: string, cause?: unknown) =>
    new PluginLoadError(packageName, failure, message, cause === undefined ? undefined : { cause });
  const found = resolveEntry(packageName, options.resolveFrom);
  if ('error' in found) {
    const { from, error } = found;
    const where = from.length === 1 ? from[0] : `any of ${from.join(', ')}`;
    throw fail('not-found', `it is not installed where ${where} can resolve it (npm install ${packageName}), or its entry file is missing: ${error.message.split('\n')[0]}`, error);
  }
  const { entry, requireFrom } = found;
  const packageJsonPath = findPackageJson(requireFrom, packageName, entry);
  if (!packageJsonPath) throw fail('not-found', `no package.json found for it (looked above ${entry})`);
  const declaredKind = (readJson(packageJsonPath)?.trellis as { kind?: unknown } | undefined)?.kind;
  if (declaredKind === undefined) {
    throw fail('not-a-plugin', `its package.json (${packageJsonPath}) has no "trellis": { "kind": ... }; a plugin package names its kind there, one of ${PLUGIN_KINDS.join(', ')}`);
  }
  if (!isPluginKind(declaredKind)) {
    throw fail('unknown-kind', `its package.json names kind ${JSON.stringify(declaredKind)}, which is not a plugin kind; the kinds are ${PLUGIN_KINDS.join(', ')}`);
  }

  let mod: unknown;
  try {
    mod = await import(entry);
  } catch (err) {
    throw fail('import-failed', `importing ${entry} threw: ${(err as Error).message}`, err);
  }
  const plugin = defaultExport(mod);
  if (!isPlugin(plugin)) {
    throw fail('not-a-plugin', `its default export is ${describe(plugin)}, not a plugin; a plugin package does \`export default definePlugin({ manifest, configSchema, create })\``);
  }
  const problem = checkManifest(plugin.manifest);
  if (problem) throw fail(problem.failure, problem.message);
  if (plugin.manifest.kind !== declaredKind) {
    throw fail(
      'kind-mismatch',
      `its package.json says "trellis": { "kind": "${declaredKind}" } but its manifest says kind "${plugin.manifest.kind}"; make the two agree`,
    );
  }
  return { packageName, packageDir: dirname(packageJsonPath), plugin };
}

/** The package's entry file, from the first directory that resolves it; a path only from the working directory. */
function resolveEntry(packageName: string, resolveFrom: string | readonly string[] | undefined): { entry: string; requireFrom: NodeJS.Require } | { from: string[]; error: Error } {
  const isPath = packageName.startsWith('.') || isAbsolute(packageName);
  const from = isPath || resolveFrom === undefined ? [process.cwd()] : (typeof resolveFrom === 'string' ? [resolveFrom] : [...resolveFrom]).map((dir) => resolve(dir));
  let error = new Error(`no directory to resolve ${packageName} from`);
  for (const dir of from) {
    const requireFrom = createRequire(join(dir, '__trellis_plugin_loader__.js'));
    try {
      return { entry: requireFrom.resolve(packageName), requireFrom };
    } catch (err) {
      error = err as Error;
    }
  }
  return { from, error };
}

function findPackageJson(requireFrom: NodeJS.Require, packageName: string, entry: string): string | undefined {
  try {
    return requireFrom.resolve(`${packageName}/package.json`);
  } catch {
    // The package's "exports" hide package.json: walk up from its entry file instead.
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    // Nested package.json files without a name ({ "type": "module" } in dist/) are not the package's.
    const candidate = join(dir, 'package.json');
    if (typeof readJson(candidate)?.name === 'string') return candidate;
  }
  return undefined;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// `import()` of CommonJS gives { default: module.exports }; a CommonJS build of an ES module puts the
// plugin one level further down, at module.exports.default.
function defaultExport(mod: unknown): unknown {
  const first = (mod as { default?: unknown } | undefined)?.default ?? mod;
  if (isPlugin(first)) return first;
  const second = (first as { default?: unknown } | undefined)?.default;
  return isPlugin(second) ? second : first;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const keys = Object.keys(value);
  return keys.length ? `an object with keys ${keys.slice(0, 5).join(', ')}` : 'an empty object';
}
