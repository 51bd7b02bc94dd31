import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SERVICES, startDistributedPlatform, type DistributedPlatform, type Program } from '../e2e/distributed-platform';
import { runUserFlow, type UserFlowOptions } from '../e2e/user-flow';
import { buildPreviousRelease, recordedRelease, type PreviousRelease } from './previous-release';
import { programChanges, programFolders } from './program-changes';

const ROOT = resolve(__dirname, '../..');
const PROGRAMS: readonly Program[] = [...SERVICES, 'gateway'];
const release = recordedRelease();
const print = (line: string) => process.stdout.write(`[skew] ${line}\n`);

/**
 * The programs whose two runs are due: those whose build differs from the previous release's, and
 * those TRELLIS_SKEW_PROGRAMS names (comma-separated, or `all`) to swap even when they do not.
 */
function programsToSwap(): Program[] {
  const named = (process.env.TRELLIS_SKEW_PROGRAMS ?? '').split(',').filter(Boolean);
  return PROGRAMS.filter((program) => {
    const changes = programChanges(program, release.commit);
    if (changes.length > 0) {
      print(`${program} differs from ${release.version}: ${changes.slice(0, 3).join(', ')}${changes.length > 3 ? ` and ${changes.length - 3} more` : ''}`);
      return true;
    }
    const swapped = named.includes('all') || named.includes(program);
    print(`${program} is built from the same files as ${release.version} (${programFolders(program).length} workspace folders, .swcrc, tools/build.mjs, third-party packages): ${swapped ? 'swapped all the same (TRELLIS_SKEW_PROGRAMS)' : 'its two runs are skipped'}`);
    return swapped;
  });
}

const swapped = programsToSwap();
const identical = PROGRAMS.filter((program) => !swapped.includes(program));

/**
 * Version skew, one program at a time (docs/operations.md, releases): each program of the previous
 * release among current ones, then each current program among the previous release's, on two
 * platforms whose programs are swapped one by one and back; the user's flow runs through the
 * gateway after each swap. A program built from the same files as the previous release's is the
 * same program, so its runs are skipped, and the builds of those are compared to prove it.
 */
describe(`version skew against the previous release, ${release.version} (${release.commit.slice(0, 7)})`, () => {
  let previous: PreviousRelease;

  beforeAll(async () => {
    previous = await buildPreviousRelease();
    // `npm test` built this checkout once already; a run of this spec alone builds it here, once.
    if (process.env.TRELLIS_PREBUILT !== '1') await promisify(execFile)(process.execPath, ['tools/build.mjs'], { cwd: ROOT });
  }, 600_000);

  if (identical.length > 0) {
    it(`builds ${identical.join(', ')} into the same files as ${release.version} does`, () => {
      const folders = [...new Set(identical.flatMap((program) => programFolders(program)))];
      const differing = folders.flatMap((folder) => differentFiles(join(previous.checkout, folder, 'dist'), join(ROOT, folder, 'dist')).map((file) => join(folder, 'dist', file)));
      expect(differing).toEqual([]);
    });
  }

  if (swapped.length === 0) return;

  const directions = [
    { name: `one program of ${release.version}, the others current`, base: (): string | null => null, swap: () => previous.checkout, flowName: 'one-old' },
    { name: `one current program, the others of ${release.version}`, base: () => previous.checkout, swap: (): string | null => null, flowName: 'one-new' },
  ];

  describe.each(directions)('$name', ({ name: direction, base, swap, flowName }) => {
    let platform: DistributedPlatform | undefined;

    /** The platform with every program from `base`, started again when a failed swap left it unusable. */
    const platformNow = async () => {
      const from = base();
      platform ??= await startDistributedPlatform({
        from: from === null ? {} : Object.fromEntries(PROGRAMS.map((program) => [program, from])),
        env: { TRELLIS_PREBUILT: '1' },
      });
      return platform;
    };

    afterAll(async () => platform?.close(), 60_000);

    it('runs the user flow before any swap', async () => {
      const started = Date.now();
      await runUserFlow(await platformNow(), `${flowName}-none`, flowOptions(base()));
      print(`${direction}: the user flow with no program swapped took ${seconds(started)} s (the platform's start included)`);
    }, 420_000);

    it.each(swapped)('runs the user flow with %s swapped', async (program) => {
      const running = await platformNow();
      const timings: string[] = [];
      const timed = async (what: string, action: () => Promise<unknown>) => {
        const started = Date.now();
        try {
          await action();
        } catch (error) {
          // The platform's output ends with the others shutting down; the program's own lines say why it failed.
          const own = running.output().split('\n').filter((line) => line.startsWith(`[${program}] `));
          // The platform may be down or half swapped: the next swap starts a fresh one.
          platform = undefined;
          // Closing is clean-up: what failed is the swap's error, not the clean-up's.
          await running.close().catch(() => undefined);
          throw new Error(`${direction}, ${program} swapped: ${what} failed: ${(error as Error).message}\n${program}'s last lines:\n${own.slice(-40).join('\n')}`, { cause: error });
        }
        timings.push(`${what} ${seconds(started)} s`);
      };
      await timed(`stopping ${program}`, () => running.stop(program));
      await timed(`starting ${program} ${describeCheckout(swap())}`, () => running.start(program, { from: swap() }));
      await timed('the user flow', () => runUserFlow(running, `${flowName}-${program}`, flowOptions(program === 'serving' ? swap() : base())));
      await timed(`stopping ${program}`, () => running.stop(program));
      await timed(`starting ${program} ${describeCheckout(base())} again`, () => running.start(program, { from: base() }));
      print(`${direction}, ${program} swapped: ${timings.join(', ')}`);
    }, 420_000);
  });

  /**
   * The flow as serving from `servingCheckout` takes it: the previous release's serving may load only
   * a version that names its format (0.17.0's does), so it gets one registered through the
   * registry with its format, which every release takes.
   */
  const flowOptions = (servingCheckout: string | null): UserFlowOptions => ({ registration: servingCheckout === null ? 'mlflow' : 'registry' });

  const describeCheckout = (checkout: string | null) => (checkout === null ? 'from this checkout' : `from ${release.version}`);
});

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** Files (relative paths) that one of two directories has and the other lacks, or that differ in content. */
function differentFiles(left: string, right: string): string[] {
  const leftFiles = filesUnder(left);
  const rightFiles = filesUnder(right);
  const all = [...new Set([...leftFiles, ...rightFiles])].sort();
  return all.filter((file) => !leftFiles.includes(file) || !rightFiles.includes(file) || !readFileSync(join(left, file)).equals(readFileSync(join(right, file))));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}
