import { Injectable } from '@nestjs/common';
import { pause } from '@trellis/plugin-sdk';
import type { Worker } from '@trellis/platform';
import { MonitorService } from './monitor.service';

/** How long the worker waits between passes: data publishes no event when a profile is ready. */
export const PENDING_REFERENCE_INTERVAL_MS = 2000;

/** Fits the references of monitors whose dataset profile was being computed when they were created, once it is ready (one replica runs it). */
@Injectable()
export class PendingReferenceWorker implements Worker {
  constructor(private readonly monitors: MonitorService) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.monitors.fitPendingReferences(signal);
      await pause(PENDING_REFERENCE_INTERVAL_MS, signal);
    }
  }
}
