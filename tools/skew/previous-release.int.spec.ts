import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICES } from '../e2e/distributed-platform';
import { buildPreviousRelease, recordedRelease, thirdPartyDifferences, type PreviousRelease } from './previous-release';

const ROOT = resolve(__dirname, '../..');
const PROGRAMS = [...SERVICES, 'gateway'] as const;

/**
 * Where node resolves each [file of `checkout`, module name], links followed. Asked of a node
 * process of its own: jest resolves @trellis/* to this checkout's sources.
 */
function resolvedFrom(checkout: string, requests: Array<[file: string, name: string]>): string[] {
  const script = `const { realpathSync } = require('node:fs'); const { createRequire } = require('node:module');
    const requests = JSON.parse(process.argv[1]);
    console.log(JSON.stringify(requests.map(([file, name]) => realpathSync(createRequire(file).resolve(name)))));`;
  const absolute = requests.map(([file, name]) => [join(checkout, file), name]);
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(absolute)], { encoding: 'utf8' })) as string[];
}

describe('the previous release, built for the version-skew suite', () => {
  const release = recordedRelease();
  let previous: PreviousRelease;

  beforeAll(async () => {
    previous = await buildPreviousRelease();
  }, 300_000);

  it("is tools/api/release.json's commit, every file as that commit has it", () => {
    // Absolute paths: hash-object reads a relative one from the top of the repository it is in.
    expect(previous).toMatchObject(release);
    const tree = execFileSync('git', ['ls-tree', '-r', '-z', release.commit], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter(Boolean)
      .map((line) => /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(line)!);
    const hashes = execFileSync('git', ['hash-object', '--no-filters', '--stdin-paths'], { cwd: previous.checkout, input: tree.map(([, , path]) => join(previous.checkout, path)).join('\n'), encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(hashes).toEqual(tree.map(([, blob]) => blob));
  });

  it('has every program built', () => {
    for (const program of PROGRAMS) expect(existsSync(join(previous.checkout, 'apps', program, 'dist', 'main.js'))).toBe(true);
  });

  it('resolves @trellis packages inside its own tree, and third-party ones to the packages its lock names', () => {
    const expected: Array<[file: string, name: string, resolved: string]> = PROGRAMS.flatMap((program) => [
      [`apps/${program}/dist/main.js`, '@trellis/platform', 'libs/platform/dist/index.js'],
      [`apps/${program}/dist/main.js`, `@trellis/${program}`, `libs/${program}/dist/index.js`],
    ]);
    // Plugins are found by name from the program's working directory, which is the checkout.
    expected.push(['index.js', '@trellis/plugin-storage-fs', 'plugins/storage-fs/dist/index.js']);
    const resolved = resolvedFrom(previous.checkout, expected.map(([file, name]) => [file, name]));
    expect(resolved).toEqual(expected.map(([, , path]) => join(realpathSync(previous.checkout), path)));

    const [nest] = resolvedFrom(previous.checkout, [['libs/platform/dist/index.js', '@nestjs/core']]);
    if (previous.checkout.endsWith('-linked')) {
      expect(thirdPartyDifferences(release.commit)).toEqual([]);
      expect(nest).toBe(resolvedFrom(ROOT, [['index.js', '@nestjs/core']])[0]);
    } else {
      expect(nest.startsWith(join(realpathSync(previous.checkout), 'node_modules'))).toBe(true);
    }
  });

  it('is built once when two builds run at once, leaving no half-built tree behind', async () => {
    const releases = mkdtempSync(join(tmpdir(), 'trellis-releases-'));
    try {
      const [first, second] = await Promise.all([buildPreviousRelease({ releases, log: () => undefined }), buildPreviousRelease({ releases, log: () => undefined })]);
      expect(second.checkout).toBe(first.checkout);
      expect(readdirSync(releases)).toEqual([first.checkout.slice(releases.length + 1)]);
      expect(existsSync(join(first.checkout, 'apps/registry/dist/main.js'))).toBe(true);
    } finally {
      rmSync(releases, { recursive: true, force: true });
    }
  }, 300_000);

  it('says what to fetch when the clone does not have the commit', async () => {
    const clone = mkdtempSync(join(tmpdir(), 'trellis-shallow-'));
    try {
      execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, clone]);
      await expect(buildPreviousRelease({ root: clone, log: () => undefined })).rejects.toThrow(
        `the previous release ${release.version} (tools/api/release.json) is commit ${release.commit}, which this shallow clone does not have; ` +
          `fetch it (git fetch --unshallow, or git fetch origin ${release.commit}) and run again`,
      );
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  }, 60_000);
});
