import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, pause, type Logger, type Worker } from '@trellis/platform';
import { BlobUploadRepository } from './blob-upload.repository';
import { BlobService } from './blob.service';
import { BlobGcService } from './blob-gc.service';

/** How often the worker collects. */
const GC_INTERVAL_MS = 60 * 60 * 1000;
/** How long a blob stays after a commit or an upload last named it, whatever versions name it. */
export const GC_GRACE_MS = 24 * 60 * 60 * 1000;
/** Expired uploads dropped per sweep. */
const EXPIRED_PER_SWEEP = 1000;

/**
 * Sweeps once an hour (one replica): drops expired uploads and their staged bytes, then collects
 * blobs no live version names that were last named more than a day ago, and logs what it freed.
 */
@Injectable()
export class BlobGcWorker implements Worker {
  constructor(
    private readonly gc: BlobGcService,
    private readonly uploads: BlobUploadRepository,
    private readonly blobs: BlobService,
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

  /** One sweep: expired uploads, then unreferenced blobs. */
  async sweep(now = Date.now()): Promise<void> {
    const expired = await this.uploads.expired(now, EXPIRED_PER_SWEEP);
    for (const upload of expired) await this.blobs.drop(upload);
    const freed = await this.gc.collect(GC_GRACE_MS, now);
    this.logger.info({ expiredUploads: expired.length, freed }, 'blob garbage collection');
  }
}
