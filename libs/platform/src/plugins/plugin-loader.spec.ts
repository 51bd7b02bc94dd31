import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { PluginLoadError } from './plugin-errors';
import { importPluginPackage } from './plugin-loader';

const fixtures = join(__dirname, '..', '..', 'test', 'plugin-fixtures');
const fixture = (name: string) => join(fixtures, name);

describe('importPluginPackage', () => {
  it('loads a plugin package from its directory, with its package dir', async () => {
    const loaded = await importPluginPackage(fixture('good'));
    expect(loaded.plugin.manifest).toEqual({ kind: 'notifier', id: 'notifier-memory', apiVersion: 'v1' });
    expect(loaded.packageDir).toBe(fixture('good'));
  });

  describe('by npm name', () => {
    let project: string;

    beforeAll(async () => {
      project = await mkdtemp(join(tmpdir(), 'plugin-loader-'));
      await mkdir(join(project, 'node_modules', '@fixture'), { recursive: true });
      await symlink(fixture('good'), join(project, 'node_modules', '@fixture', 'plugin-notifier-memory'));
    });

    afterAll(async () => {
      await rm(project, { recursive: true, force: true });
    });

    it('resolves a package installed where resolveFrom points', async () => {
      const loaded = await importPluginPackage('@fixture/plugin-notifier-memory', { resolveFrom: project });
      expect(loaded.plugin.manifest.id).toBe('notifier-memory');
    });

    it('tries each resolveFrom directory in order', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'plugin-loader-empty-'));
      try {
        const loaded = await importPluginPackage('@fixture/plugin-notifier-memory', { resolveFrom: [empty, project] });
        expect(loaded.packageDir).toBe(fixture('good'));
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });

    it('takes a package path from the working directory, not from resolveFrom', async () => {
      const relativePath = relative(process.cwd(), fixture('good'));
      const loaded = await importPluginPackage(`.${sep}${relativePath}`, { resolveFrom: project });
      expect(loaded.packageDir).toBe(fixture('good'));
    });

    it('refuses a package that is not installed, saying how to install it', async () => {
      const failure = importPluginPackage('@fixture/plugin-absent', { resolveFrom: project });
      await expect(failure).rejects.toMatchObject({ failure: 'not-found' });
      await expect(failure).rejects.toThrow(/cannot load plugin package @fixture\/plugin-absent: .*npm install @fixture\/plugin-absent/);
    });
  });

  it('takes the plugin from a CommonJS build of `export default` (exports.default with __esModule)', async () => {
    const loaded = await importPluginPackage(fixture('esm-compiled'));
    expect(loaded.plugin.manifest.id).toBe('notifier-esm-compiled');
    expect(loaded.packageDir).toBe(fixture('esm-compiled'));
  });

  it('takes the plugin from module.exports.default without __esModule (mod.default.default)', async () => {
    expect((await importPluginPackage(fixture('double-default'))).plugin.manifest.id).toBe('notifier-double-default');
  });

  it('refuses a default export that is not a plugin, describing what it is', async () => {
    const failure = importPluginPackage(fixture('not-a-plugin'));
    await expect(failure).rejects.toBeInstanceOf(PluginLoadError);
    await expect(failure).rejects.toMatchObject({ failure: 'not-a-plugin' });
    await expect(failure).rejects.toThrow(/default export is an object with keys greet, version, not a plugin; .*definePlugin/);
  });

  it('refuses a package.json that does not name a kind', async () => {
    await expect(importPluginPackage(fixture('no-kind'))).rejects.toMatchObject({
      failure: 'not-a-plugin',
      message: expect.stringContaining('has no "trellis": { "kind": ... }'),
    });
  });

  it('refuses a package whose package.json and manifest disagree on the kind, quoting both', async () => {
    await expect(importPluginPackage(fixture('kind-mismatch'))).rejects.toMatchObject({
      failure: 'kind-mismatch',
      message: expect.stringContaining('package.json says "trellis": { "kind": "storage" } but its manifest says kind "compute"'),
    });
  });

  it('refuses a manifest of an unknown kind, listing the kinds', async () => {
    await expect(importPluginPackage(fixture('unknown-kind'))).rejects.toMatchObject({
      failure: 'unknown-kind',
      message: expect.stringContaining('kind "queue", which is not a plugin kind; the kinds are storage, compute, drift, runtime, kms, notifier'),
    });
  });

  it('refuses an unknown kind in package.json before importing the package', async () => {
    await expect(importPluginPackage(fixture('unknown-kind-package'))).rejects.toMatchObject({
      failure: 'unknown-kind',
      message: expect.stringContaining('package.json names kind "queue"'),
    });
  });

  it('refuses an unsupported apiVersion, saying which versions are supported', async () => {
    await expect(importPluginPackage(fixture('api-v2'))).rejects.toMatchObject({
      failure: 'unsupported-api-version',
      message: expect.stringContaining('plugin storage-next declares apiVersion "v2" of the storage contract, which this host does not support; supported: v1'),
    });
  });

  it('reports a package that throws while it is imported, with the cause', async () => {
    const failure = importPluginPackage(fixture('throws'));
    await expect(failure).rejects.toMatchObject({ failure: 'import-failed', message: expect.stringContaining('missing native binding libfoo.so') });
    await expect(failure).rejects.toHaveProperty('cause.message', 'missing native binding libfoo.so');
  });
});
