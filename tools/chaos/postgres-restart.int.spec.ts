import { eventually } from '@trellis/testing';
import { startDistributedPlatform, type DistributedPlatform, type Program } from '../e2e/distributed-platform';
import { findLost, startLoad, type Load, type Write } from './load';
import { startPrivatePostgres, type PrivatePostgres } from './private-servers';

/**
 * PostgreSQL restarted (a fast shutdown, then a start) under load, on a PostgreSQL of this spec's
 * own that holds every service's database. The calls it fails are answered as retryable (503,
 * UNAVAILABLE), never as an internal error; writes succeed again once it is back, every process
 * becomes ready again, and no acknowledged write is lost.
 */
describe('a PostgreSQL restart under load', () => {
  let postgres: PrivatePostgres;
  let platform: DistributedPlatform;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    platform = await startDistributedPlatform({ postgresUrl: postgres.url });
  }, 300_000);

  afterAll(async () => {
    await platform?.close();
    await postgres?.close();
  }, 120_000);

  it('fails calls only as retryable while it restarts, then recovers without losing an acknowledged write', async () => {
    const target = { gateway: platform.gateway, adminKey: platform.adminKey };
    const load = await startLoad(target);
    await acknowledgedAfter(load, Date.now());

    const restartBegan = Date.now();
    await postgres.restart();
    const back = Date.now();
    const [firstWrite, allReady] = await Promise.all([acknowledgedAfter(load, back), everyProcessReady(platform)]);
    for (const kind of KINDS) await acknowledgedAfter(load, back, kind);
    const report = await load.stop();
    const lost = await findLost(target, report);

    const duringRestart = report.failed.filter(({ at }) => at >= restartBegan && at <= firstWrite.at);
    const seconds = (at: number) => ((at - restartBegan) / 1000).toFixed(1);
    console.log(
      [
        `postgres restart: ${duringRestart.length} failed requests during the restart, ${report.failed.length} in all: ${report.failed.filter(retryable).length} retryable (503), ${report.failed.filter((failure) => !retryable(failure)).length} other`,
        `postgres restart: PostgreSQL down and back in ${seconds(back)} s; first write succeeding after ${seconds(firstWrite.at)} s; every /readyz 200 after ${seconds(allReady)} s`,
        `postgres restart: ${lost.length} acknowledged writes lost of ${report.acknowledged.length}`,
      ].join('\n'),
    );
    // An internal error comes with the server's log lines of its request, which say what failed.
    const internal = report.failed.filter((failure) => !retryable(failure));
    expect(internal.map((failure) => ({ ...failure, log: linesOf(platform, failure.status) }))).toEqual([]);
    expect(lost).toEqual([]);
  }, 600_000);
});

const KINDS: ReadonlyArray<Write['kind']> = ['metric', 'dataset-version', 'job'];

/** A failed write the caller may retry: the gateway's 503 (UNAVAILABLE, or MLflow's TEMPORARILY_UNAVAILABLE). */
const retryable = ({ status }: { status: string }) => status.startsWith('503 ');

/** The platform's log lines of the request a failure's answer names. */
function linesOf(platform: DistributedPlatform, answer: string): string[] {
  const requestId = /"request_id":"([^"]+)"/.exec(answer)?.[1];
  return requestId ? platform.output().split('\n').filter((line) => line.includes(requestId)) : [];
}

/** The first write (of `kind`, if given) acknowledged after `since`, once there is one. */
async function acknowledgedAfter(load: Load, since: number, kind?: Write['kind']): Promise<Write> {
  try {
    return await eventually(
      () => {
        const write = load.progress().acknowledged.find((one) => one.at > since && (kind === undefined || one.kind === kind));
        if (!write) throw new Error(`no ${kind ?? 'write'} acknowledged since ${new Date(since).toISOString()}`);
        return write;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the last failures: ${JSON.stringify(load.progress().failed.slice(-5))}`, { cause: error });
  }
}

/** When every process's /readyz answers 200 again. */
async function everyProcessReady(platform: DistributedPlatform): Promise<number> {
  const programs = Object.keys(platform.processes) as Program[];
  await eventually(
    async () => {
      const statuses = await Promise.all(programs.map(async (program) => [program, (await fetch(`${platform.processes[program].ops}/readyz`)).status]));
      expect(statuses.filter(([, status]) => status !== 200)).toEqual([]);
    },
    { timeoutMs: 120_000, intervalMs: 50 },
  );
  return Date.now();
}
