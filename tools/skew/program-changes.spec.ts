import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { programChanges, programFolders } from './program-changes';

const ROOT = resolve(__dirname, '../..');
// Fixed points of history, so what the spec expects never moves: 0.17.0, and the commit before its
// last two changes, both to monitoring's sources (b6ec896, 536e4bf).
const RELEASE_0_17 = '536e4bf727e54c3f0a0032e88c0376521f6ce7b6';
const BEFORE_MONITORING_CHANGES = '4569a80';

describe("what a program's build reads, to tell whether the previous release's is the same program", () => {
  const clone = mkdtempSync(join(tmpdir(), 'trellis-program-changes-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' });

  beforeAll(() => {
    execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', ROOT, clone]);
    git('checkout', '--quiet', '--detach', RELEASE_0_17);
  });
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  it('is its app, the packages its sources import, theirs in turn, and every plugin', () => {
    const plugins = git('ls-tree', '--name-only', 'HEAD', 'plugins/').trim().split('\n');
    const folders = programFolders('registry', clone);
    expect(folders).toEqual(expect.arrayContaining(['apps/registry', 'libs/registry', 'libs/platform', 'libs/proto', 'libs/plugin-sdk', ...plugins]));
    // Only specs import the test kit; the registry runs nothing of monitoring's.
    expect(folders).not.toContain('libs/testing');
    expect(folders).not.toContain('libs/monitoring');
    expect(programFolders('monitoring', clone)).toContain('libs/monitoring');
  });

  it('names the changed files of a program whose packages changed, and nothing for one whose did not', () => {
    expect(programChanges('monitoring', BEFORE_MONITORING_CHANGES, clone)).toEqual([
      'libs/monitoring/src/datasets/dataset-columns.ts',
      'libs/monitoring/src/monitors/column-resolution.ts',
      'libs/monitoring/src/monitors/monitor.service.ts',
    ]);
    expect(programChanges('registry', BEFORE_MONITORING_CHANGES, clone)).toEqual([]);
  });

  it('counts an edited file, a file git does not track yet, and a third-party package the lock installs differently', () => {
    expect(programChanges('registry', 'HEAD', clone)).toEqual([]);
    appendFileSync(join(clone, 'libs/platform/src/index.ts'), '\n');
    writeFileSync(join(clone, 'plugins/storage-fs/src/new-file.ts'), 'export {};\n');
    const lock = JSON.parse(readFileSync(join(clone, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    lock.packages['node_modules/rxjs'].version = '0.0.0';
    writeFileSync(join(clone, 'package-lock.json'), JSON.stringify(lock));

    expect(programChanges('registry', 'HEAD', clone)).toEqual(['libs/platform/src/index.ts', 'plugins/storage-fs/src/new-file.ts', 'package-lock.json: node_modules/rxjs']);
  });

  it('counts nothing outside what the program reads', () => {
    git('checkout', '--quiet', '--', 'libs/platform', 'package-lock.json');
    rmSync(join(clone, 'plugins/storage-fs/src/new-file.ts'));
    appendFileSync(join(clone, 'libs/monitoring/src/index.ts'), '\n');
    appendFileSync(join(clone, 'libs/testing/src/index.ts'), '\n');
    expect(programChanges('registry', 'HEAD', clone)).toEqual([]);
    expect(programChanges('monitoring', 'HEAD', clone)).toEqual(['libs/monitoring/src/index.ts']);
  });
});
