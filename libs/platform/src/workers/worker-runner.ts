import type { KitLogger } from '../persistence/logger';
import { pause } from '@trellis/plugin-sdk';
import type { Leadership } from './leadership';
import type { Worker } from './worker';

/** Back-off between runs of a worker that failed: doubling from `initialMs` up to `maxMs`. */
export interface WorkerBackoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: WorkerBackoff = { initialMs: 500, maxMs: 30_000 };

/**
 * Runs one worker for as long as this replica leads it: waits for the lease, runs the worker,
 * runs it again after a back-off when it throws or returns early (a run that lasted `maxMs`
 * resets the back-off), and aborts it when the lease is lost or `stop()` is called. A failing
 * worker is logged, never allowed to end the process.
 */
export class WorkerRunner {
  private readonly stopping = new AbortController();
  private done?: Promise<void>;

  constructor(
    /** `<service>:<worker class>`, as logs name it. */
    readonly name: string,
    private readonly worker: Worker,
    private readonly leadership: Leadership,
    private readonly logger: KitLogger,
    private readonly backoff: WorkerBackoff = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    this.done ??= this.lead();
  }

  /** Aborts the worker and resolves once its run has returned and the lease is given up. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.done;
  }

  private async lead(): Promise<void> {
    const stopped = this.stopping.signal;
    while (!stopped.aborted) {
      const lease = await this.leadership.acquire(stopped);
      if (!lease) return;
      this.logger.info({ worker: this.name }, 'running worker');
      try {
        await this.runWhile(AbortSignal.any([stopped, lease.lost]));
      } finally {
        await lease.release();
      }
      if (lease.lost.aborted && !stopped.aborted) this.logger.warn({ worker: this.name }, 'stopped the worker: this replica no longer leads it');
    }
  }

  private async runWhile(signal: AbortSignal): Promise<void> {
    let delay = this.backoff.initialMs;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await Promise.resolve().then(() => this.worker.run(signal));
        if (signal.aborted) return;
        this.logger.warn({ worker: this.name, restartInMs: delay }, 'worker returned before it was stopped; running it again after a pause');
      } catch (error) {
        if (signal.aborted) return;
        this.logger.error({ worker: this.name, err: error, restartInMs: delay }, 'worker failed; running it again after a pause');
      }
      if (Date.now() - started >= this.backoff.maxMs) delay = this.backoff.initialMs;
      await pause(delay, signal);
      delay = Math.min(delay * 2, this.backoff.maxMs);
    }
  }
}
