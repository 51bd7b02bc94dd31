import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, type Worker } from '@trellis/platform';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MonitoringConfig } from '../monitoring.config';
import { WindowRepository } from './window.repository';
import { WindowService } from './window.service';

/**
 * Closes time windows no later row closes (the endpoint went quiet): every
 * `services.monitoring.windowCheckIntervalMs`, each window that ended `timeWindowGraceMs` ago.
 */
@Injectable()
export class WindowCloserWorker implements Worker {
  constructor(
    private readonly repository: WindowRepository,
    private readonly windows: WindowService,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const now = Date.now();
      for (const monitorId of await this.repository.timeWindowsDue(now - this.config.timeWindowGraceMs)) {
        if (signal.aborted) return;
        await this.windows.closeByClock(monitorId, now);
      }
      await sleep(this.config.windowCheckIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
