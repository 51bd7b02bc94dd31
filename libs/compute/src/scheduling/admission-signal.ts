import { Injectable } from '@nestjs/common';
import { Wakeup } from './wakeup';

/**
 * Wakes the admission loop: a job was submitted or ended, a grant or queue changed. Callers that
 * changed jobs name them, so the loop reads those again instead of every queued job.
 */
@Injectable()
export class AdmissionSignal extends Wakeup {
  private changed = new Set<string>();

  /** Tells the loop there may be work; `jobIds`: jobs that were queued or left the queue. */
  override wake(jobIds: readonly string[] = []): void {
    for (const id of jobIds) this.changed.add(id);
    super.wake();
  }

  /** The jobs named since the last call. */
  takeChangedJobs(): string[] {
    const ids = [...this.changed];
    this.changed = new Set();
    return ids;
  }
}

/** Wakes the supervisor: a job was admitted, cancelled or preempted. */
@Injectable()
export class DispatchSignal extends Wakeup {}
