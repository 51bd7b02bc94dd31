import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, pause, SERVICE_CONFIG, type Logger, type Worker } from '@trellis/platform';
import type { MonitoringConfig } from '../monitoring.config';
import { PerformanceRepository } from './performance.repository';

/** How often the worker prunes. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Prunes at start and then once an hour (one replica): labels posted, and predicted rows answered,
 * more than `services.monitoring.labelRetentionDays` ago. Window performance already measured stays.
 */
@Injectable()
export class LabelRetentionWorker implements Worker {
  constructor(
    private readonly repository: PerformanceRepository,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.prune();
      } catch (error) {
        this.logger.warn({ error: String(error) }, 'pruning labels and predicted rows failed; it runs again at the next interval');
      }
      await pause(PRUNE_INTERVAL_MS, signal);
    }
  }

  /** One pass: deletes what is older than the retention at `now`. */
  async prune(now = Date.now()): Promise<{ labels: number; predictions: number }> {
    const pruned = await this.repository.prune(now - this.config.labelRetentionDays * DAY_MS);
    if (pruned.labels || pruned.predictions) this.logger.info(pruned, 'pruned labels and predicted rows past their retention');
    return pruned;
  }
}
