import { eventually } from '@trellis/testing';
import { SERVICES, startDistributedPlatform, type DistributedPlatform, type Program } from '../e2e/distributed-platform';
import { findLost, startLoad, unfinishedJobs, type Load, type LoadReport, type LoadTarget, type Write } from './load';

const KINDS: Array<Write['kind']> = ['metric', 'dataset-version', 'job'];

/** What one kill cost: the writes refused from the kill until every kind succeeds again, and how long that took. */
interface Kill {
  program: Program;
  killedAt: number;
  readyAfterMs: number;
  recoveredAfterMs: number;
  failed: number;
}

/** When, after `since`, each kind of write was first acknowledged; undefined until every kind was. */
function everyKindAcknowledged(report: LoadReport, since: number): number | undefined {
  const firsts = KINDS.map((kind) => report.acknowledged.find((one) => one.kind === kind && one.at > since)?.at);
  return firsts.every((at) => at !== undefined) ? Math.max(...(firsts as number[])) : undefined;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/**
 * Chaos, part 1: distributed mode (`npm run start:distributed`, one process per service) under a
 * steady load through the gateway (metrics, dataset versions, jobs on compute's local cluster).
 * Each service in turn, then the gateway, is killed with SIGKILL while writes are in flight and
 * started again. Writes fail while it is down, none that was acknowledged is lost, and every job
 * acknowledged ends (compute picks its jobs up again after a crash).
 */
describe('kill -9 of each service under load (distributed)', () => {
  let platform: DistributedPlatform;
  let target: LoadTarget;
  let load: Load | undefined;

  beforeAll(async () => {
    platform = await startDistributedPlatform();
    target = { gateway: platform.gateway, adminKey: platform.adminKey };
  }, 300_000);

  afterAll(async () => {
    await load?.stop();
    await platform?.close();
  }, 60_000);

  it('loses no acknowledged write when each process is killed in turn and started again, and every acknowledged job ends', async () => {
    load = await startLoad(target, { kinds: KINDS });
    const kills: Kill[] = [];
    for (const program of [...SERVICES, 'gateway'] as Program[]) {
      // In flight: the ledger has grown since the last step.
      const before = load.progress().acknowledged.length;
      await eventually(() => expect(load!.progress().acknowledged.length).toBeGreaterThan(before), { timeoutMs: 60_000, intervalMs: 50 });

      const killedAt = Date.now();
      await platform.stop(program, 'SIGKILL');
      await platform.start(program);
      const readyAt = Date.now();
      const recoveredAt = await eventually(
        () => {
          const at = everyKindAcknowledged(load!.progress(), readyAt);
          if (at === undefined) throw new Error(`not every kind of write succeeded since ${program} was ready again; the last failures: ${JSON.stringify(load!.progress().failed.slice(-3))}`);
          return at;
        },
        { timeoutMs: 90_000, intervalMs: 50 },
      );
      const failed = load.progress().failed.filter((one) => one.at >= killedAt && one.at <= recoveredAt).length;
      kills.push({ program, killedAt, readyAfterMs: readyAt - killedAt, recoveredAfterMs: recoveredAt - killedAt, failed });
    }

    const report = await load.stop();
    load = undefined;
    const lost = await findLost(target, report);
    // Each lost write is charged to the last kill before it was acknowledged.
    const lostAfter = (kill: Kill) => lost.filter((one) => one.at >= kill.killedAt && !kills.some((later) => later.killedAt > kill.killedAt && one.at >= later.killedAt)).length;
    const counts = KINDS.map((kind) => `${report.acknowledged.filter((one) => one.kind === kind).length} ${kind}`).join(', ');
    process.stdout.write(
      [
        `kill -9 under load (distributed, ${counts} acknowledged, ${report.failed.length} refused in all):`,
        ...kills.map(
          (kill) =>
            `  ${kill.program.padEnd(10)} lost ${lostAfter(kill)}, ${kill.failed} writes refused, ready again ${seconds(kill.readyAfterMs)} s and every kind of write succeeding ${seconds(kill.recoveredAfterMs)} s after the kill`,
        ),
        '',
      ].join('\n'),
    );
    expect(report.acknowledged.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);

    let unfinished = report;
    await eventually(
      async () => {
        const open = await unfinishedJobs(target, unfinished);
        unfinished = { acknowledged: unfinished.acknowledged.filter((one) => open.some(({ id }) => id === one.id)), failed: [] };
        expect(open).toEqual([]);
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
  }, 900_000);
});
