import { Metrics } from '@trellis/platform';
import { RevisionMetrics } from '../metrics/revision-metrics';
import type { ServingConfig } from '../serving.config';
import { CanaryReports } from './canary-reports';
import type { CanaryReportEntity, RolloutEntity } from './rollout.entity';
import type { RolloutRepository } from './rollout.repository';

/** The rollout repository's report table in memory: one row per rollout and replica, as its primary key. */
class ReportTable {
  readonly rows = new Map<string, CanaryReportEntity>();
  writes = 0;

  constructor(readonly canaries: RolloutEntity[]) {}

  asRepository(): RolloutRepository {
    return {
      canaries: async () => this.canaries,
      saveReport: async (report: CanaryReportEntity) => {
        this.writes += 1;
        this.rows.set(`${report.rolloutId}/${report.replicaId}`, report);
      },
      reports: async (rolloutId: string) => [...this.rows.values()].filter((report) => report.rolloutId === rolloutId),
    } as unknown as RolloutRepository;
  }
}

const silent = { warn: () => undefined } as never;
const config = { rolloutIntervalMs: 1000 } as ServingConfig;
const canary = { id: 'rollout-1', candidateRevisionId: 'r2', startedAt: Date.now() - 1000 } as RolloutEntity;
const answer = (metrics: RevisionMetrics, latencyMs: number, error = false) => metrics.record({ endpoint: 'churn', revisionId: 'r2', latencyMs, error });

describe("CanaryReports: each replica's counts of a baking canary", () => {
  it("writes a canary's counts when they change, and not again while they stay the same", async () => {
    const table = new ReportTable([canary]);
    const metrics = new RevisionMetrics(new Metrics());
    const reports = new CanaryReports(table.asRepository(), metrics, config, silent);
    await reports.report();
    expect(table.writes).toBe(0);

    answer(metrics, 4);
    answer(metrics, 6, true);
    await reports.report();
    await reports.report();
    expect(table.writes).toBe(1);
    expect([...table.rows.values()]).toEqual([expect.objectContaining({ rolloutId: 'rollout-1', replicaId: reports.replicaId, requests: 2, errors: 1, p99Ms: 6 })]);

    answer(metrics, 5);
    await reports.report();
    expect(table.writes).toBe(2);
    expect([...table.rows.values()].map(({ requests }) => requests)).toEqual([3]);
  });

  it("adds every other replica's latest report to its own counts as they are now, its own report not twice", async () => {
    const table = new ReportTable([canary]);
    const [first, second] = [new RevisionMetrics(new Metrics()), new RevisionMetrics(new Metrics())];
    const [deciding, other] = [new CanaryReports(table.asRepository(), first, config, silent), new CanaryReports(table.asRepository(), second, config, silent)];
    for (let i = 0; i < 3; i++) answer(first, 2);
    for (let i = 0; i < 5; i++) answer(second, 30, i === 0);
    await deciding.report();
    await other.report();
    answer(first, 8);

    expect(await deciding.window(canary)).toEqual({ requests: 9, errors: 1, p99Ms: 30 });
  });
});
