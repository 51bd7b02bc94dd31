import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/** The previous release as tools/api/release.json records it. */
export interface Release {
  version: string;
  commit: string;
}

/** The previous release, built: `checkout` is what start:distributed's `--from` takes. */
export interface PreviousRelease extends Release {
  checkout: string;
}

export function recordedRelease(root = ROOT): Release {
  const { version, commit } = JSON.parse(readFileSync(join(root, 'tools/api/release.json'), 'utf8')) as Release;
  return { version, commit };
}

/**
 * The third-party packages a package-lock.json installs, by their place under node_modules, each
 * with how it is resolved. Workspace links (@trellis/*) are left out: each checkout links its own.
 */
export function thirdPartyPackages(lockText: string): Map<string, string> {
  const { packages } = JSON.parse(lockText) as { packages: Record<string, { link?: boolean }> };
  return new Map(
    Object.entries(packages)
      .filter(([place, entry]) => place.includes('node_modules/') && !entry.link)
      .map(([place, entry]) => [place, JSON.stringify(entry)]),
  );
}

/** The places whose packages differ between the previous release's lock and this checkout's. */
export function thirdPartyDifferences(commit: string, root = ROOT): string[] {
  const previous = thirdPartyPackages(git(root, 'show', `${commit}:package-lock.json`));
  const current = thirdPartyPackages(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const places = new Set([...previous.keys(), ...current.keys()]);
  return [...places].filter((place) => previous.get(place) !== current.get(place)).sort();
}

/**
 * Builds the recorded previous release into <releases>/<commit>-<packages>/ (by default under
 * <root>/.trellis/releases, which git ignores), once:
 * its files from `git archive`, its node_modules, then its own tools/build.mjs. Its node_modules
 * links to this checkout's third-party packages when the two locks install the same ones
 * (`-linked`), else it is installed by `npm ci` (`-installed`). Each build happens in a directory
 * of its own that is renamed into place when done, so builds that run at once never see each
 * other's half-built tree, and the first to finish is the one kept.
 */
export async function buildPreviousRelease({
  root = ROOT,
  releases = join(root, '.trellis', 'releases'),
  log = print,
}: { root?: string; releases?: string; log?: (line: string) => void } = {}): Promise<PreviousRelease> {
  const release = recordedRelease(root);
  requireCommit(root, release);
  const differences = thirdPartyDifferences(release.commit, root);
  const linked = differences.length === 0 && !workspaceOwnPackages(root, release.commit);
  const checkout = join(releases, `${release.commit}-${linked ? 'linked' : 'installed'}`);
  if (existsSync(checkout)) return { ...release, checkout };

  mkdirSync(releases, { recursive: true });
  const building = mkdtempSync(join(releases, `.${release.commit}-`));
  try {
    const started = Date.now();
    await run('bash', ['-c', 'set -o pipefail; git archive "$1" | tar -x -C "$2"', 'archive', release.commit, building], { cwd: root });
    if (linked) {
      linkPackages(root, building);
    } else {
      log(`${release.version}'s third-party packages differ from this checkout's (${packageNames(differences)}): installing its own with npm ci`);
      await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: building, maxBuffer: 64 * 1024 * 1024 });
    }
    await run(process.execPath, ['tools/build.mjs'], { cwd: building });
    try {
      renameSync(building, checkout);
      log(`built ${release.version} (${release.commit.slice(0, 7)}) into ${checkout} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      // Another build of the same release finished first; its tree is the same.
      if (!existsSync(checkout)) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return { ...release, checkout };
}

const print = (line: string) => process.stdout.write(`[skew] ${line}\n`);

function git(root: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** Fails, saying what to fetch, when the release's commit is not in this clone (a shallow clone). */
function requireCommit(root: string, { version, commit }: Release): void {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: root, stdio: 'ignore' });
  } catch {
    const shallow = git(root, 'rev-parse', '--is-shallow-repository').trim() === 'true';
    throw new Error(
      `the previous release ${version} (tools/api/release.json) is commit ${commit}, which this ${shallow ? 'shallow ' : ''}clone does not have; ` +
        `fetch it (git fetch --unshallow, or git fetch origin ${commit}) and run again`,
    );
  }
}

/** Whether the release's lock installs packages inside a workspace (apps/x/node_modules), which linking would not provide. */
function workspaceOwnPackages(root: string, commit: string): boolean {
  return [...thirdPartyPackages(git(root, 'show', `${commit}:package-lock.json`)).keys()].some((place) => !place.startsWith('node_modules/'));
}

/**
 * Lays out `checkout`'s node_modules as npm would, without installing: every third-party entry of
 * this checkout's node_modules is a link to it, and @trellis/* link into `checkout`'s own
 * libs, apps and plugins, as its package-lock.json says (relative links, as npm makes them).
 */
function linkPackages(root: string, checkout: string): void {
  const modules = join(checkout, 'node_modules');
  mkdirSync(join(modules, '@trellis'), { recursive: true });
  // Dot entries are npm's and tools' own (.bin, .package-lock.json, .cache), not packages.
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '@trellis' && !entry.startsWith('.')) symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  const { packages } = JSON.parse(readFileSync(join(checkout, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean; resolved?: string }> };
  for (const [place, { link, resolved }] of Object.entries(packages)) {
    if (link && resolved && place.startsWith('node_modules/@trellis/')) symlinkSync(join('../..', resolved), join(checkout, place));
  }
}

function packageNames(places: string[]): string {
  const names = places.map((place) => place.replace(/^.*node_modules\//, ''));
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}
