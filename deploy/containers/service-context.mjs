// Writes the build context of one program's image (deploy/containers/Containerfile) from a built
// checkout (`npm run build`): `node` (this host's binary: the one `npm ci` built the native
// modules for) and `app/`, the program's files as they sit under the image's WORKDIR:
//
//   app/package.json                    "main": the program's entry, so `node .` starts it
//   app/apps/<program>/dist/            the program
//   app/node_modules/@trellis/<name>/   each workspace package it reaches: package.json and dist/, real copies
//   app/node_modules/<package>/         each npm package it reaches, with what those depend on
//
// Only what the program reaches is copied: our own code is followed require by require from its
// main.js (each workspace package it enters is copied whole, for files loaded by path, such as a
// worker thread's); an npm package brings its package.json dependencies (optional and peer ones
// when installed), not its nested node_modules wholesale.
//
//   node deploy/containers/service-context.mjs <program> <directory>
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Every program an image can be built for: each service, and the gateway. */
export const PROGRAMS = ['governance', 'tracking', 'registry', 'data', 'compute', 'serving', 'monitoring', 'gateway'];

const BUILTINS = new Set(builtinModules);
const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;
/** Files of npm packages that nothing loads at run time: type declarations, TypeScript sources, source maps, docs. */
const NOT_RUN = /\.(ts|mts|cts|map|md)$/;
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** `@scope/name` or `name` of a bare specifier such as `@trellis/proto/gen/x` or `pino/file`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The folder of package `name` as Node finds it from `dir`: the nearest node_modules/<name> upwards. */
function packageDir(name, dir) {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (basename(at) !== 'node_modules' && existsSync(join(candidate, 'package.json'))) return candidate;
    if (at === ROOT || at === dirname(at)) return undefined;
  }
}

/**
 * What `program` runs with: the files of the checkout to copy, as folders (workspace packages:
 * their real folder; npm packages: their folder under node_modules).
 */
export function programFiles(program) {
  const entry = join(ROOT, 'apps', program, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${relative(ROOT, entry)} is missing: build the checkout first (npm run build)`);
  const workspace = new Map(); // package name -> its real folder
  const npm = new Set(); // folders under node_modules
  const seen = new Set();
  const files = [entry];

  const addNpmPackage = (name, fromDir, optional) => {
    const dir = packageDir(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name}, needed from ${relative(ROOT, fromDir)}, is not installed (npm ci)`);
    }
    if (npm.has(dir)) return;
    npm.add(dir);
    const manifest = readJson(join(dir, 'package.json'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) addNpmPackage(dependency, dir, false);
    for (const dependency of Object.keys({ ...manifest.optionalDependencies, ...manifest.peerDependencies })) addNpmPackage(dependency, dir, true);
  };

  while (files.length > 0) {
    const file = files.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const requireFrom = createRequire(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(REQUIRE)) {
      if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue;
      if (specifier.startsWith('.') || specifier.startsWith('@trellis/')) {
        const target = realpathSync(requireFrom.resolve(specifier));
        if (specifier.startsWith('@trellis/')) workspace.set(packageName(specifier), realpathSync(packageDir(packageName(specifier), ROOT)));
        if (target.endsWith('.js')) files.push(target);
        continue;
      }
      addNpmPackage(packageName(specifier), dirname(file), false);
    }
  }
  // The gateway serves the web UI's built files, which it finds by package name, not by require.
  if (workspace.has('@trellis/gateway')) workspace.set('@trellis/web', realpathSync(packageDir('@trellis/web', ROOT)));
  return { workspace, npm: [...npm].sort() };
}

/**
 * The Containerfile's build arguments for `program`: SERVICE, and PORTS from its definition (its
 * gRPC port and each `...Port` setting of its own section, serving's REST API) or, for the gateway,
 * the kit's `gateway.port`. Reads the built packages, so the numbers are the ones the program uses.
 */
export function buildArgs(program) {
  const requireBuilt = createRequire(join(ROOT, 'apps', program, 'package.json'));
  if (program === 'gateway') return { SERVICE: program, PORTS: String(requireBuilt('@trellis/platform').configSchema.parse({}).gateway.port) };
  const definition = requireBuilt(`@trellis/${program}`)[`${program}Service`];
  const settings = definition.config?.parse({}) ?? {};
  const ports = [definition.defaultPort, ...Object.entries(settings).filter(([key]) => key.endsWith('Port')).map(([, port]) => port)];
  return { SERVICE: program, PORTS: ports.join(' ') };
}

/** Builds the checkout (tools/build.mjs), unless `npm test` did already (TRELLIS_PREBUILT=1). */
export async function buildCheckout() {
  if (process.env.TRELLIS_PREBUILT === '1') return;
  const { build } = await import(join(ROOT, 'tools', 'build.mjs'));
  // tools/build.mjs builds the projects under the current directory.
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    await build();
  } finally {
    process.chdir(cwd);
  }
}

/** Copies `from` to `to` as real files: links are followed, so nothing in the copy points back here. */
function copy(from, to, filter = () => true) {
  cpSync(from, to, { recursive: true, dereference: true, filter });
}

/** Writes `program`'s build context into `dir` (emptied first); returns the context's app folder. */
export function writeServiceContext(program, dir) {
  if (!PROGRAMS.includes(program)) throw new Error(`there is no program ${program}; the programs are ${PROGRAMS.join(', ')}`);
  const { workspace, npm } = programFiles(program);
  rmSync(dir, { recursive: true, force: true });
  const app = join(dir, 'app');
  mkdirSync(app, { recursive: true });
  copy(process.execPath, join(dir, 'node'));
  const programDir = join(ROOT, 'apps', program);
  copy(join(programDir, 'package.json'), join(app, 'apps', program, 'package.json'));
  copy(join(programDir, 'dist'), join(app, 'apps', program, 'dist'));
  for (const [name, source] of workspace) {
    copy(join(source, 'package.json'), join(app, 'node_modules', name, 'package.json'));
    copy(join(source, 'dist'), join(app, 'node_modules', name, 'dist'));
  }
  const rootModules = join(ROOT, 'node_modules');
  for (const source of npm) {
    // A package's own node_modules holds its nested dependencies: each is copied on its own, when needed.
    const needed = (path) => !relative(source, path).split(sep).includes('node_modules') && !NOT_RUN.test(path);
    copy(source, join(app, 'node_modules', relative(rootModules, source)), needed);
  }
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: `trellis-${program}`, private: true, main: `apps/${program}/dist/main.js` }, null, 2)}\n`);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [program, dir] = process.argv.slice(2);
  if (!program || !dir) {
    console.error(`usage: node deploy/containers/service-context.mjs <program> <directory>; <program> is one of ${PROGRAMS.join(', ')}`);
    process.exit(2);
  }
  await buildCheckout();
  writeServiceContext(program, resolve(dir));
}
