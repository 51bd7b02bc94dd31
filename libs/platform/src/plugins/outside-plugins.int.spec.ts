import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { PluginInstanceByKind, PluginKind } from '@trellis/plugin-sdk';
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

/**
 * Runs a program, failing with its output (a compiler's errors, a test report) when it fails. The
 * npm_* variables of an `npm test` that runs this spec stay out: they would point npm at the repository.
 */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...inherited, ...env }, maxBuffer: 64 * 1024 * 1024 });
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
    // The examples sit side by side over one node_modules, as in an organization's own repository
    // of plugins, so that one tsc run builds them all.
    const buildDir = join(work, 'build');
    const nodeModules = join(buildDir, 'node_modules');
    await installSdk(nodeModules);
    for (const types of ['node', 'jest']) await link(join(modules, '@types', types), join(nodeModules, '@types', types));
    for (const example of examples) {
      const dir = join(buildDir, example);
      await cp(join(examplesDir, example), dir, { recursive: true, filter: (path) => !/[/\\](dist|node_modules)$/.test(path) });
      const { compilerOptions } = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
      expect({ example, ...compilerOptions }).toMatchObject({ example, strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false });
      expect((await packageJson(dir)).dependencies).toEqual({ '@trellis/plugin-sdk': (await packageJson(join(repo, 'libs', 'plugin-sdk'))).version });
    }
    await exec(process.execPath, [join(modules, 'typescript', 'bin', 'tsc'), '-b', ...examples.map((example) => join(example, 'tsconfig.json'))], buildDir);
    for (const example of examples) built.set(example, join(buildDir, example));
  }, 180_000);

  it("passes its kind's conformance suite, run by jest from the built JavaScript", async () => {
    expect([...built.keys()]).toEqual(examples);
    const report = join(work, 'jest-report.json');
    try {
      await exec(process.execPath, [join(modules, 'jest', 'bin', 'jest.js'), '--ci', '--json', '--outputFile', report, '--projects', ...built.values()], work);
    } finally {
      const results = JSON.parse(await readFile(report, 'utf8').catch(() => '{}')) as { testResults?: { name: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[] };
      const failed = (results.testResults ?? []).flatMap((file) =>
        file.assertionResults.filter((test) => test.status !== 'passed').map((test) => `${relative(work, file.name)}: ${test.fullName}: ${(test.failureMessages ?? []).join('\n').slice(0, 2000)}`),
      );
      expect(failed).toEqual([]);
      for (const example of examples) {
        const tests = (results.testResults ?? []).filter((file) => file.name.startsWith(built.get(example) ?? '?')).flatMap((file) => file.assertionResults);
        expect({ example, conformance: tests.filter((test) => / conformance \(v\d+\): /.test(test.fullName)).length >= 5 }).toEqual({ example, conformance: true });
      }
    }
  }, 180_000);

  it('is loaded by the kit from a plugins directory, and an instance of each, declared in trellis.yaml, does its work', async () => {
    // `npm install --prefix <pluginsDir> <plugin tarball>`: each example and its dependencies under node_modules.
    const pluginsDir = join(work, 'plugins-installed');
    for (const [example, dir] of built) {
      const packed = await exec('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', join(work, 'tarballs')], dir, { npm_config_offline: 'true' });
      const installed = join(pluginsDir, 'node_modules', ...((await packageJson(dir)).name as string).split('/'));
      await unpack(join(work, 'tarballs', packed.trim().split('\n').pop() as string), installed);
      expect({ example, files: (await readdir(installed)).sort() }).toEqual({ example, files: ['dist', 'package.json'] });
    }
    await installSdk(join(pluginsDir, 'node_modules'));

    const receiver = await alertReceiver();
    const model = join(work, 'model.json');
    await writeFile(model, JSON.stringify({ weights: [1, -1], bias: 0 }));
    const file = join(work, 'trellis.yaml');
    const instance = (plugin: string, config: object = {}) => ({ outside: { plugin, config } });
    await writeFile(
      file,
      JSON.stringify({
        dataDir: join(work, 'data'),
        opsPort: 0,
        storage: instance('storage-memory-outside', { readChunkBytes: 4096 }),
        compute: instance('compute-process-outside'),
        drift: instance('drift-jsd-outside'),
        runtime: instance('runtime-logistic-outside'),
        kms: instance('kms-aes-outside', { masterKey: 'env:ACME_KMS_MASTER_KEY' }),
        notifier: instance('notifier-webhook-outside', { url: receiver.url }),
      }),
    );
    process.env.ACME_KMS_MASTER_KEY = randomBytes(32).toString('base64');
    const logged: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(line) } });
    const runtime = await PlatformRuntime.create(loadConfig({ file, env: { TRELLIS_PLUGINS_DIR: pluginsDir } }), { logger });
    try {
      for (const example of examples) {
        const kind = example.split('-')[0] as PluginKind;
        expect({ example, manifest: runtime.plugins.plugin(kind, example)?.manifest }).toEqual({ example, manifest: { kind, id: example, apiVersion: 'v1' } });
        expect(logged.join('')).toContain(`loaded ${kind} plugin ${example} from the plugins directory`);
        await runtime.instances.start(kind);
      }
      const configured = <K extends PluginKind>(kind: K) => runtime.instances.get(kind, 'outside')?.instance as PluginInstanceByKind[K];

      const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
      await configured('storage').put('models/outside/weights.bin', bytes);
      const chunks: Buffer[] = [];
      for await (const chunk of (await configured('storage').get('models/outside/weights.bin')) as Readable) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
      expect(chunks.map((chunk) => chunk.length)).toEqual([4096, 4096, 1808]);

      const dataKey = await configured('kms').generateDataKey('artifacts', { project: 'p-1' });
      expect(Buffer.from(await configured('kms').unwrapKey('artifacts', dataKey.wrapped, { project: 'p-1' }))).toEqual(Buffer.from(dataKey.plaintext));

      const reference = await configured('drift').fit({ type: 'categorical', values: ['a', 'b', 'a'] });
      expect(await configured('drift').score(reference, { type: 'categorical', values: ['c', 'c'] })).toMatchObject({ measure: 'distance', drifted: true });

      const loaded = await configured('runtime').load(model, 'logistic-json');
      expect(await loaded.infer([{ name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([2, 2]) }])).toEqual([
        { name: 'p', datatype: 'FP32', shape: [1, 1], data: new Float32Array([0.5]) },
      ]);

      const { jobId } = await configured('compute').submit({ name: 'hello', command: ['echo', 'hello from outside'], resources: { cpus: 1, memoryBytes: 2 ** 26 } }, { idempotencyKey: 'outside-1' });
      const states: string[] = [];
      for await (const status of configured('compute').watch(jobId)) states.push(status.state);
      expect(states[states.length - 1]).toBe('succeeded');
      const lines: string[] = [];
      for await (const line of configured('compute').logs(jobId)) lines.push(line.line);
      expect(lines).toEqual(['hello from outside']);

      await configured('notifier').deliver({ id: 'outside-1', status: 'firing', severity: 'info', title: 'from outside', source: 'spec', labels: {}, at: new Date() });
      expect(receiver.received.map((alert) => alert.title)).toEqual(['from outside']);
    } finally {
      delete process.env.ACME_KMS_MASTER_KEY;
      await runtime.close();
      await receiver.close();
    }
  }, 120_000);
});

/** An HTTP server that records the alerts posted to it. */
async function alertReceiver(): Promise<{ url: string; received: { title: string }[]; close(): Promise<void> }> {
  const received: { title: string }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { title: string });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
