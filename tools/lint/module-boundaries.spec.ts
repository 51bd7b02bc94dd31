import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** A file's text linted as if it sat at `path`. */
interface Probe {
  path: string;
  code: string;
}

/**
 * Lints every probe in one ESLint process (its API, outside jest, which cannot load the ESM
 * config) and returns the boundary rule's messages per probe: starting ESLint once per probe
 * took minutes on a busy machine.
 */
function boundaryErrors(probes: Probe[]): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const probes = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const eslint = new ESLint({ cwd: ${JSON.stringify(root)} });
    Promise.all(probes.map(({ path, code }) => eslint.lintText(code, { filePath: path }))).then((results) => {
      process.stdout.write(JSON.stringify(results.map(([result]) =>
        result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message))));
    });`;
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: root,
    input: JSON.stringify(probes.map(({ path, code }) => ({ path: join(root, path), code }))),
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  return JSON.parse(output) as string[][];
}

const importing = (name: string, from: string) => `import { ${name} } from '${from}';\nexport const x = ${name};\n`;

describe('module boundaries (ESLint)', () => {
  let pluginImportsKit: string[], pluginImportsSdk: string[], sdkImportsKit: string[], protoImportsSdk: string[];
  beforeAll(() => {
    [pluginImportsKit, pluginImportsSdk, sdkImportsKit, protoImportsSdk] = boundaryErrors([
      { path: 'plugins/storage-fs/src/probe.ts', code: importing('Outbox', '@trellis/platform') },
      { path: 'plugins/storage-fs/src/probe.ts', code: importing('definePlugin', '@trellis/plugin-sdk') },
      { path: 'libs/plugin-sdk/src/probe.ts', code: importing('Outbox', '@trellis/platform') },
      { path: 'libs/proto/src/probe.ts', code: importing('definePlugin', '@trellis/plugin-sdk') },
    ]);
  });

  it('fails a plugin that imports anything of ours but @trellis/plugin-sdk', () => {
    expect(pluginImportsKit).toEqual(['A project tagged with "type:plugin" can only depend on libs tagged with "scope:plugin-sdk"']);
    expect(pluginImportsSdk).toEqual([]);
  });

  it('fails the plugin SDK importing the service kit, and libs/proto importing anything of ours', () => {
    expect(sdkImportsKit).toHaveLength(1);
    expect(protoImportsSdk).toHaveLength(1);
  });
});
