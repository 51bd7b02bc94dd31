import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config';
import { createLogger } from '../ops/logger';
import { PlatformRuntime } from '../service/platform-runtime';
import { PluginRegistry } from './plugin-registry';
import { findPluginPackages, loadPluginPackages } from './plugins-dir';

const fixture = (name: string) => join(__dirname, '..', '..', 'test', 'plugin-fixtures', name);

let base: string;
let count = 0;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'plugins-dir-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh directory with `layout`: path -> fixture name (linked) or package.json contents (written). */
async function directory(layout: Record<string, string | object>): Promise<string> {
  const root = join(base, `dir-${++count}`);
  await mkdir(root, { recursive: true });
  for (const [path, what] of Object.entries(layout)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof what === 'string') await symlink(fixture(what), target);
    else {
      await mkdir(target);
      await writeFile(join(target, 'package.json'), typeof what === 'object' && 'raw' in what ? String(what.raw) : JSON.stringify(what));
    }
  }
  return root;
}

function recordingLogger() {
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  return { lines, info: (obj: object, msg?: string) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

describe('findPluginPackages', () => {
  it('finds dropped package folders, then packages in node_modules (scoped too), and skips packages that are not plugins', async () => {
    const dir = await directory({
      'team-notifier': 'good',
      '.hidden': 'esm-compiled',
      'notes': { name: 'notes', version: '1.0.0' },
      'node_modules/@acme/esm-notifier': 'esm-compiled',
      'node_modules/zod': { name: 'zod', version: '4.6.7' },
      'node_modules/@trellis/plugin-sdk': { name: '@trellis/plugin-sdk', version: '0.1.0' },
      'node_modules/storage-next': 'api-v2',
    });
    expect(await findPluginPackages(dir)).toEqual([
      join(dir, 'team-notifier'),
      join(dir, 'node_modules', '@acme', 'esm-notifier'),
      join(dir, 'node_modules', 'storage-next'),
    ]);
  });

  it('refuses a missing directory, naming the setting', async () => {
    await expect(findPluginPackages(join(base, 'absent'))).rejects.toThrow(
      `cannot load plugin package ${join(base, 'absent')}: the plugins directory (pluginsDir, TRELLIS_PLUGINS_DIR) cannot be read: it does not exist`,
    );
  });

  it('refuses a package.json that is not JSON, naming the file', async () => {
    const dir = await directory({ broken: { raw: '{ "name": ' } });
    await expect(findPluginPackages(dir)).rejects.toThrow(`its package.json (${join(dir, 'broken', 'package.json')}) is not JSON`);
  });
});

describe('loadPluginPackages', () => {
  it('loads every plugin package of the plugins directory and logs where each came from', async () => {
    const dir = await directory({ 'team-notifier': 'good', 'node_modules/@acme/esm-notifier': 'esm-compiled' });
    const registry = new PluginRegistry();
    const logger = recordingLogger();
    const loaded = await loadPluginPackages(registry, { packages: [], pluginsDir: dir, logger });
    expect(registry.listPlugins('notifier').map((p) => p.manifest.id)).toEqual(['notifier-memory', 'notifier-esm-compiled']);
    expect(loaded.map(({ id, origin }) => ({ id, origin }))).toEqual([
      { id: 'notifier-memory', origin: 'plugins directory' },
      { id: 'notifier-esm-compiled', origin: 'plugins directory' },
    ]);
    expect(logger.lines.map((line) => line.msg)).toEqual([
      'loaded notifier plugin notifier-memory from the plugins directory',
      'loaded notifier plugin notifier-esm-compiled from the plugins directory',
    ]);
    // Where the package really is: links (npm link, file: dependencies) are followed.
    expect(logger.lines[1]?.obj).toMatchObject({ kind: 'notifier', plugin: 'notifier-esm-compiled', dir: fixture('esm-compiled') });
  });

  it('resolves listed names from the plugins directory first, then from the program, loading each package once', async () => {
    const pluginsDir = await directory({ 'node_modules/@fixture/plugin-notifier-memory': 'good' });
    // The program has another package of the same name and plugin id: the plugins directory's wins.
    const programDir = await directory({
      'node_modules/@fixture/plugin-notifier-memory': 'duplicate-id',
      'node_modules/@fixture/plugin-esm-compiled': 'esm-compiled',
    });
    const registry = new PluginRegistry();
    const loaded = await loadPluginPackages(registry, {
      packages: ['@fixture/plugin-notifier-memory', '@fixture/plugin-esm-compiled'],
      pluginsDir,
      programDir,
    });
    expect(loaded.map(({ id, origin, packageDir }) => ({ id, origin, packageDir }))).toEqual([
      { id: 'notifier-memory', origin: 'plugins directory', packageDir: fixture('good') },
      { id: 'notifier-esm-compiled', origin: 'plugins list', packageDir: fixture('esm-compiled') },
    ]);
  });

  it('registers listed packages in order, a package listed twice once', async () => {
    const registry = new PluginRegistry();
    await loadPluginPackages(registry, { packages: [fixture('good'), fixture('esm-compiled'), fixture('good')] });
    expect(registry.listPlugins('notifier').map((p) => p.manifest.id)).toEqual(['notifier-memory', 'notifier-esm-compiled']);
    expect(registry.listPlugins('storage')).toEqual([]);
  });

  it('stops at the first refused listed package, naming it', async () => {
    const registry = new PluginRegistry();
    await expect(loadPluginPackages(registry, { packages: [fixture('good'), fixture('api-v2'), fixture('not-a-plugin')] })).rejects.toThrow(
      `cannot load plugin package ${fixture('api-v2')}:`,
    );
  });

  it('refuses two listed packages with one plugin id, naming both', async () => {
    await expect(loadPluginPackages(new PluginRegistry(), { packages: [fixture('good'), fixture('duplicate-id')] })).rejects.toMatchObject({
      failure: 'duplicate-id',
      message: expect.stringContaining(`both ${fixture('good')} and ${fixture('duplicate-id')} provide it`),
    });
  });

  it('loads listed names from the program alone when no plugins directory is set', async () => {
    const programDir = await directory({ 'node_modules/@fixture/plugin-esm-compiled': 'esm-compiled' });
    const registry = new PluginRegistry();
    await loadPluginPackages(registry, { packages: ['@fixture/plugin-esm-compiled'], programDir });
    expect(registry.plugin('notifier', 'notifier-esm-compiled')).toBeDefined();
  });

  it('says where it looked for a listed package that is nowhere', async () => {
    const pluginsDir = await directory({});
    const programDir = await directory({});
    await expect(loadPluginPackages(new PluginRegistry(), { packages: ['@acme/absent'], pluginsDir, programDir })).rejects.toThrow(
      `cannot load plugin package @acme/absent: it is not installed where any of ${pluginsDir}, ${programDir} can resolve it (npm install @acme/absent)`,
    );
  });

  it("stops at a package of the plugins directory that fails to load, with the loader's message", async () => {
    const dir = await directory({ 'node_modules/good': 'good', 'node_modules/storage-next': 'api-v2' });
    const failure = loadPluginPackages(new PluginRegistry(), { packages: [], pluginsDir: dir });
    await expect(failure).rejects.toMatchObject({ code: 'PLUGIN_LOAD', failure: 'unsupported-api-version' });
    await expect(failure).rejects.toThrow(
      `cannot load plugin package ${join(dir, 'node_modules', 'storage-next')}: plugin storage-next declares apiVersion "v2" of the storage contract, which this host does not support; supported: v1`,
    );
  });

  it('refuses two packages of the plugins directory with one plugin id, naming both', async () => {
    const dir = await directory({ a: 'good', b: 'duplicate-id' });
    await expect(loadPluginPackages(new PluginRegistry(), { packages: [], pluginsDir: dir })).rejects.toThrow(
      `notifier plugin id "notifier-memory" is already loaded: both ${join(dir, 'a')} and ${join(dir, 'b')} provide it`,
    );
  });
});

describe('a process with pluginsDir', () => {
  const config = async (pluginsDir: string) => {
    const file = join(base, 'trellis.yaml');
    await writeFile(file, '{}\n');
    return loadConfig({ file, env: { TRELLIS_PLUGINS_DIR: pluginsDir, TRELLIS_DATA_DIR: join(base, 'data'), TRELLIS_OPS_PORT: '0' } });
  };

  it('has the plugins of the directory registered when it starts', async () => {
    const dir = await directory({ 'node_modules/@acme/notifier': 'good' });
    const runtime = await PlatformRuntime.create(await config(dir), { withoutBroker: true, logger: createLogger({ level: 'silent' }) });
    try {
      expect(runtime.plugins.plugin('notifier', 'notifier-memory')).toBeDefined();
    } finally {
      await runtime.close();
    }
  });

  it("refuses to start when a package there fails to load, with the loader's message", async () => {
    const dir = await directory({ 'node_modules/storage-next': 'api-v2' });
    await expect(PlatformRuntime.create(await config(dir), { withoutBroker: true, logger: createLogger({ level: 'silent' }) })).rejects.toThrow(
      `cannot load plugin package ${join(dir, 'node_modules', 'storage-next')}: plugin storage-next declares apiVersion "v2"`,
    );
  });
});
