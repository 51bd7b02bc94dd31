import { Injectable } from '@nestjs/common';
import { pause } from '@trellis/platform';

/** Wakes the rollout worker: an alias move was recorded. */
@Injectable()
export class RolloutSignal {
  private woken = false;
  private waker?: AbortController;

  wake(): void {
    this.woken = true;
    this.waker?.abort();
  }

  /** Waits until woken, `ms` passed, or `signal` aborted. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.woken) {
      this.waker = new AbortController();
      await pause(ms, AbortSignal.any([signal, this.waker.signal]));
      this.waker = undefined;
    }
    this.woken = false;
  }
}
