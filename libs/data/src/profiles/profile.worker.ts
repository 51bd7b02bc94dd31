import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, type Worker } from '@trellis/platform';
import { blobKey, BlobStore } from '../blobs/blob-store';
import { profileStream } from './profile-stream';
import { ProfileRepository } from './profile.repository';
import type { TabularFormat } from './profile.types';
import { ProfileError } from './table-profiler';

/** How long the worker waits for a wake-up before it looks for pending profiles again. */
const IDLE_MS = 5000;
/** Attempts of a blob that failed for another reason than its content (storage unreachable) before it is marked failed. */
const MAX_ATTEMPTS = 3;

/**
 * Profiles pending blobs one at a time (a profile takes the machine's cores while it runs), reading
 * each from its storage instance as a stream. A file that is not its format is marked failed with
 * the reason; another error (storage away) leaves it pending for another attempt, up to three.
 */
@Injectable()
export class ProfileWorker implements Worker {
  private wakeUp?: () => void;
  private woken = false;

  constructor(
    private readonly repository: ProfileRepository,
    private readonly blobs: BlobStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Tells a waiting worker that there may be work. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.woken = false;
      const did = await this.profileNext();
      if (!did) await this.idle(signal);
    }
  }

  /** Profiles the oldest pending blob; false when none waits or storage failed (the worker then waits before the next). */
  async profileNext(): Promise<boolean> {
    const task = await this.repository.takePending(Date.now());
    if (!task) return false;
    // Attempts are counted before the work, so a file that brought the process down is not taken forever.
    if (task.attempts > MAX_ATTEMPTS) {
      await this.repository.saveFailed(task.sha256, task.format, `gave up after ${MAX_ATTEMPTS} attempts that did not finish`, Date.now());
      return true;
    }
    try {
      const store = await this.blobs.open(task.storeName);
      const profile = await profileStream(await store.get(blobKey(task.sha256)), task.format as TabularFormat);
      await this.repository.saveReady(task.sha256, task.format, profile, Date.now());
    } catch (error) {
      const reason = (error as Error).message.slice(0, 1000);
      if (error instanceof ProfileError || task.attempts >= MAX_ATTEMPTS) {
        await this.repository.saveFailed(task.sha256, task.format, reason, Date.now());
      } else {
        this.logger.warn({ sha256: task.sha256, attempt: task.attempts, error: reason }, 'profile attempt failed; it stays pending');
        return false;
      }
    }
    return true;
  }

  private idle(signal: AbortSignal): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, IDLE_MS);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
}
