import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, type Logger, SERVICE_CONFIG } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { RevisionMetrics } from '../metrics/revision-metrics';
import type { ServingConfig } from '../serving.config';
import { combined, type CanaryWindow } from './rollout-guards';
import type { RolloutEntity } from './rollout.entity';
import { RolloutRepository } from './rollout.repository';

/**
 * Each replica's share of a canary's requests, so that its guards judge all of them: every replica
 * writes what its own requests to each baking canary came to (one row per rollout and replica,
 * written every `rolloutIntervalMs` while they change), and the deciding worker adds the others'
 * latest rows to its own counts.
 */
@Injectable()
export class CanaryReports implements OnApplicationBootstrap, OnApplicationShutdown {
  /** This replica, as its reports name it: a new id each start, so a replica that restarts adds to what it reported before. */
  readonly replicaId = randomUUID();
  /** What was last written per rollout, to write only what changed. */
  private readonly written = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private reporting?: Promise<void>;

  constructor(
    private readonly repository: RolloutRepository,
    private readonly metrics: RevisionMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.report(), this.config.rolloutIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.reporting;
  }

  /** Writes this replica's counts of each baking canary that changed since its last report. */
  report(): Promise<void> {
    this.reporting ??= this.reportOnce().finally(() => (this.reporting = undefined));
    return this.reporting;
  }

  /** What the canary answered since it started on every replica: this one's counts as they are now, the others' as they last reported them. */
  async window(rollout: RolloutEntity): Promise<CanaryWindow> {
    const others = (await this.repository.reports(rollout.id)).filter((report) => report.replicaId !== this.replicaId);
    return combined([this.own(rollout), ...others.map((report) => ({ requests: report.requests, errors: report.errors, p99Ms: report.p99Ms }))]);
  }

  private own(rollout: RolloutEntity): CanaryWindow {
    return this.metrics.window(rollout.candidateRevisionId, rollout.startedAt);
  }

  private async reportOnce(): Promise<void> {
    try {
      const canaries = await this.repository.canaries();
      for (const id of this.written.keys()) if (!canaries.some((rollout) => rollout.id === id)) this.written.delete(id);
      for (const rollout of canaries) {
        const { requests, errors, p99Ms = 0 } = this.own(rollout);
        const counts = `${requests}/${errors}/${p99Ms}`;
        if (requests === 0 || this.written.get(rollout.id) === counts) continue;
        await this.repository.saveReport({ rolloutId: rollout.id, replicaId: this.replicaId, requests, errors, p99Ms, reportedAt: Date.now() });
        this.written.set(rollout.id, counts);
      }
    } catch (error) {
      this.logger.warn({ err: error }, "reporting this replica's counts of baking canaries failed; it reports again at the next interval");
    }
  }
}
