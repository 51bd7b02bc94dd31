import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, type Worker } from '@trellis/platform';
import { pause } from '@trellis/plugin-sdk';
import { DatasetMonitorService } from './dataset-monitor.service';

/** How long the worker waits between passes when nothing wakes it. */
export const DATASET_VERSION_INTERVAL_MS = 1000;

/** Scores the recorded versions of monitored datasets, one replica at a time, each version once. */
@Injectable()
export class DatasetVersionWorker implements Worker {
  private wakeUp?: AbortController;

  constructor(
    private readonly datasets: DatasetMonitorService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Ends the current wait, so that a version just recorded is looked at now. */
  wake(): void {
    this.wakeUp?.abort();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.wakeUp = new AbortController();
      const waiting = this.wakeUp.signal;
      let taken = 0;
      try {
        taken = await this.datasets.scoreDue(signal);
      } catch (error) {
        this.logger.warn({ err: error }, `scoring dataset versions failed: ${(error as Error).message}; trying again`);
      }
      if (taken === 0) await pause(DATASET_VERSION_INTERVAL_MS, AbortSignal.any([signal, waiting]));
    }
  }
}
