import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { loadConfig } from '../config';
import { createLogger } from '../ops/logger';
import { PlatformRuntime } from '../service/platform-runtime';

/*
 * An organization's plugin, with no fork (issue 12): the SDK is packed as it would be published,
 * each outside example under examples/plugins is built against that tarball in a directory outside
 * the repository under the example's own strict tsconfig, passes its kind's conformance suite, and
 * is then installed in a plugins directory that the kit loads at start.
 *
 * Installs stay offline and do not depend on the npm cache: a package is installed by unpacking its
 * tarball into node_modules, which is all `npm install <tarball>` does for a package without
 * install scripts, and its one dependency, zod, is linked from the repository's node_modules (the
 * spec checks the tarball declares exactly that version). The build and test tools (typescript,
 * jest and their @types) are the repository's, run from where they are installed; the examples
 * list them as devDependencies for a team that builds them on its own.
 */

const run = promisify(execFile);
const repo = join(__dirname, '..', '..', '..', '..');
const modules = join(repo, 'node_modules');
const examplesDir = join(repo, 'examples', 'plugins');

let work: string;
let sdkTarball: string;
let examples: string[];

/** Runs a program, failing with its output (a compiler's errors, a test report) when it fails. */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${message}\n${stdout}${stderr}`, { cause: error });
  }
}

/** `npm install <tarball>` of a package without install scripts: its contents under node_modules/<name>. */
async function unpack(tarball: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await exec('tar', ['-xzf', tarball, '-C', into, '--strip-components=1'], work);
}

async function link(target: string, path: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await symlink(target, path);
}

/** node_modules/@trellis/plugin-sdk from the tarball, and its dependency zod. */
async function installSdk(nodeModules: string): Promise<void> {
  await unpack(sdkTarball, join(nodeModules, '@trellis', 'plugin-sdk'));
  await link(join(modules, 'zod'), join(nodeModules, 'zod'));
}

async function packageJson(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'trellis-outside-plugins-'));
  examples = (await readdir(examplesDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();

  // One pack for every case. It runs in a copy of the SDK (with the base tsconfig it extends and a
  // link to the repository's node_modules for tsc), so its prepack never rewrites the dist/ of the
  // repository that running programs may be reading.
  const stage = join(work, 'stage');
  await mkdir(join(stage, 'libs'), { recursive: true });
  await cp(join(repo, 'tsconfig.base.json'), join(stage, 'tsconfig.base.json'));
  await cp(join(repo, 'libs', 'plugin-sdk'), join(stage, 'libs', 'plugin-sdk'), {
    recursive: true,
    filter: (path) => !/[/\\](dist|node_modules)$/.test(path),
  });
  await symlink(modules, join(stage, 'node_modules'));
  await mkdir(join(work, 'tarballs'));
  const packed = await exec('npm', ['pack', '--pack-destination', join(work, 'tarballs'), '--silent'], join(stage, 'libs', 'plugin-sdk'), {
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  });
  sdkTarball = join(work, 'tarballs', packed.trim().split('\n').pop() as string);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the published plugin SDK', () => {
  it('works outside the repository', () => {
    expect(relative(repo, work).startsWith('..')).toBe(true);
  });

  it('ships compiled JavaScript and declarations, with zod as its one dependency', async () => {
    const files = (await exec('tar', ['-tzf', sdkTarball], work)).trim().split('\n').map((path) => path.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts']));
    expect(files.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((path) => path.includes('.spec.'))).toEqual([]);

    const unpacked = join(work, 'sdk');
    await unpack(sdkTarball, unpacked);
    const manifest = await packageJson(unpacked);
    const zod = (await packageJson(join(modules, 'zod'))).version;
    expect(manifest).not.toHaveProperty('private');
    expect(manifest.dependencies).toEqual({ zod });
    expect(manifest.exports).toMatchObject({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './testing': { types: './dist/testing/index.d.ts', default: './dist/testing/index.js' },
    });
  });

  it('exports the contracts, definePlugin and the testing entry, and nothing of the host', async () => {
    const dir = join(work, 'probe');
    await installSdk(join(dir, 'node_modules'));
    const probe = 'const sdk = require("@trellis/plugin-sdk"); const testing = require("@trellis/plugin-sdk/testing"); console.log(JSON.stringify({ sdk: Object.keys(sdk), testing: Object.keys(testing) }))';
    const { sdk, testing } = JSON.parse(await exec(process.execPath, ['-e', probe], dir)) as { sdk: string[]; testing: string[] };
    expect(sdk).toEqual(expect.arrayContaining(['definePlugin', 'z', 'parsePluginConfig', 'PluginConfigError', 'PLUGIN_KINDS', 'REQUIRED_MEMBERS', 'validateObjectKey']));
    expect(testing).toEqual(expect.arrayContaining(['describeStorageConformance', 'createPluginInstance', 'createTestContext']));
    for (const host of ['PluginRegistry', 'importPluginPackage', 'PluginLoadError', 'encryptingObjectStore', 'KEY_RECORDS_PREFIX']) {
      expect({ host, exported: sdk.includes(host) || testing.includes(host) }).toEqual({ host, exported: false });
    }
  });
});

describe('outside plugins built against the published SDK', () => {
  const built = new Map<string, string>();

  it('has an example of every kind there is a conformance suite for', async () => {
    const testing = await readFile(join(repo, 'libs', 'plugin-sdk', 'src', 'testing', 'index.ts'), 'utf8');
    const kinds = [...testing.matchAll(/\bdescribe([A-Z][a-z]+)Conformance\b/g)].map((match) => (match[1] as string).toLowerCase());
    expect(kinds).toContain('storage');
    for (const kind of new Set(kinds)) {
      expect({ kind, examples: examples.filter((example) => example.startsWith(`${kind}-`)).length > 0 }).toEqual({ kind, examples: true });
    }
  });

  it('is quoted in docs/plugins.md as it is', async () => {
    const page = await readFile(join(repo, 'docs', 'plugins.md'), 'utf8');
    const quotes = [...page.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];
    expect(quotes.map((quote) => quote[1])).toEqual(expect.arrayContaining(['examples/plugins/storage-memory-outside/src/index.ts']));
    for (const [, path, quoted] of quotes) {
      expect({ path, text: quoted }).toEqual({ path, text: (await readFile(join(repo, path as string), 'utf8')).trimEnd() });
    }
  });

  it('builds each example under its strict tsconfig (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck off)', async () => {
    for (const example of examples) {
      const dir = join(work, 'build', example);
      await cp(join(examplesDir, example), dir, { recursive: true, filter: (path) => !/[/\\](dist|node_modules)$/.test(path) });
      const { compilerOptions } = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
      expect({ example, ...compilerOptions }).toMatchObject({ example, strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false });
      expect((await packageJson(dir)).dependencies).toEqual({ '@trellis/plugin-sdk': (await packageJson(join(repo, 'libs', 'plugin-sdk'))).version });

      const nodeModules = join(dir, 'node_modules');
      await installSdk(nodeModules);
      for (const types of ['node', 'jest']) await link(join(modules, '@types', types), join(nodeModules, '@types', types));
      await exec(process.execPath, [join(modules, 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);
      built.set(example, dir);
    }
  }, 180_000);

  it("passes its kind's conformance suite, run by jest from the built JavaScript", async () => {
    expect([...built.keys()]).toEqual(examples);
    const report = join(work, 'jest-report.json');
    try {
      await exec(process.execPath, [join(modules, 'jest', 'bin', 'jest.js'), '--ci', '--json', '--outputFile', report, '--projects', ...built.values()], work);
    } finally {
      const results = JSON.parse(await readFile(report, 'utf8').catch(() => '{}')) as { testResults?: { name: string; assertionResults: { fullName: string; status: string }[] }[] };
      const failed = (results.testResults ?? []).flatMap((file) => file.assertionResults.filter((test) => test.status !== 'passed').map((test) => `${relative(work, file.name)}: ${test.fullName}`));
      expect(failed).toEqual([]);
      for (const example of examples) {
        const tests = (results.testResults ?? []).filter((file) => file.name.startsWith(built.get(example) ?? '?')).flatMap((file) => file.assertionResults);
        expect({ example, conformance: tests.filter((test) => / conformance \(v\d+\): /.test(test.fullName)).length > 20 }).toEqual({ example, conformance: true });
      }
    }
  }, 180_000);

  it('is loaded by the kit from a plugins directory, and its instance round-trips an object', async () => {
    // `npm install --prefix <pluginsDir> <plugin tarball>`: each example and its dependencies under node_modules.
    const pluginsDir = join(work, 'plugins-installed');
    for (const [example, dir] of built) {
      const packed = await exec('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', join(work, 'tarballs')], dir, { npm_config_offline: 'true' });
      const name = (await packageJson(dir)).name as string;
      await unpack(join(work, 'tarballs', packed.trim().split('\n').pop() as string), join(pluginsDir, 'node_modules', ...name.split('/')));
      expect({ example, dist: (await readdir(join(pluginsDir, 'node_modules', ...name.split('/'), 'dist'))).includes('index.js') }).toEqual({ example, dist: true });
    }
    await installSdk(join(pluginsDir, 'node_modules'));

    const logged: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(line) } });
    const file = join(work, 'trellis.yaml');
    await writeFile(file, `dataDir: ${join(work, 'data')}\nopsPort: 0\n`);
    const config = loadConfig({ file, env: { TRELLIS_PLUGINS_DIR: pluginsDir } });
    const runtime = await PlatformRuntime.create(config, { logger });
    try {
      expect(runtime.plugins.plugin('storage', 'storage-memory-outside')?.manifest).toEqual({ kind: 'storage', id: 'storage-memory-outside', apiVersion: 'v1' });
      expect(logged.join('')).toContain('loaded storage plugin storage-memory-outside from the plugins directory');

      const store = await runtime.plugins.createInstance('storage', { name: 'outside', plugin: 'storage-memory-outside', config: { readChunkBytes: 4096 } });
      const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
      await store.put('models/outside/weights.bin', bytes);
      const chunks: Buffer[] = [];
      for await (const chunk of (await store.get('models/outside/weights.bin')) as Readable) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
      expect(chunks.map((chunk) => chunk.length)).toEqual([4096, 4096, 1808]);

      await expect(runtime.plugins.createInstance('storage', { name: 'bad', plugin: 'storage-memory-outside', config: { readChunk: 1 } })).rejects.toThrow(/readChunk/);
    } finally {
      await runtime.close();
    }
  }, 120_000);
});
