import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, pause, type Logger, type Worker } from '@trellis/platform';
import { BlobGcService } from './blob-gc.service';

/** How often the worker collects. */
const GC_INTERVAL_MS = 60 * 60 * 1000;
/** How long a blob stays after a commit or an upload last named it, whatever versions name it. */
export const GC_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Sweeps at start and then once an hour (one replica): one collection (see BlobGcService) that
 * drops expired uploads and their staged bytes, then collects blobs no live version names that
 * were last named more than a day ago, and logs what it freed.
 */
@Injectable()
export class BlobGcWorker implements Worker {
  constructor(
    private readonly gc: BlobGcService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweep();
      } catch (error) {
        this.logger.warn({ error: String(error) }, 'blob garbage collection failed; it runs again at the next interval');
      }
      await pause(GC_INTERVAL_MS, signal);
    }
  }

  /** One sweep, audited as the service's own when it frees something. */
  async sweep(now = Date.now()): Promise<void> {
    const freed = await this.gc.collect({ graceMs: GC_GRACE_MS, now });
    this.logger.info({ freed }, 'blob garbage collection');
  }
}
