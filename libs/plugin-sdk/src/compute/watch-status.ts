import { FINAL_JOB_STATES, type JobStatus } from '../contracts';
import { pause, raceAbort } from '../waiting';

/** How `watchStatus` waits between reads and when it stops. */
export interface WatchStatusOptions {
  /** Resolves when a read may see something new; called after each read that did not end the watch. */
  nextChange: () => Promise<void>;
  /** Ends the watch: after the read under way, or at once during a wait. */
  signal?: AbortSignal;
}

/**
 * `ComputeBackend.watch` over a backend that can only be read: reads the status with `readStatus`,
 * gives it when its state differs from the last one given (the first read always), and ends after
 * giving a final state or when `signal` aborts; between reads it waits for `nextChange()`. The first
 * read happens even when `signal` has already aborted, so a watch always starts with the current
 * state (or the read's error). An error of `readStatus` or `nextChange` ends the watch with it.
 */
export async function* watchStatus(readStatus: () => Promise<JobStatus>, { nextChange, signal }: WatchStatusOptions): AsyncGenerator<JobStatus> {
  let last: JobStatus['state'] | undefined;
  for (;;) {
    const status = await readStatus();
    if (status.state !== last) {
      last = status.state;
      yield status;
    }
    if (FINAL_JOB_STATES.includes(status.state) || signal?.aborted) return;
    await raceAbort(nextChange(), signal);
    if (signal?.aborted) return;
  }
}

/**
 * `watchStatus` for a backend that pushes nothing (Slurm, Ray's REST API): reads again
 * `intervalMs` after each read ends, so a slow backend is never asked faster than it answers.
 */
export function watchByPolling(readStatus: () => Promise<JobStatus>, { intervalMs, signal }: { intervalMs: number; signal?: AbortSignal }): AsyncGenerator<JobStatus> {
  return watchStatus(readStatus, { nextChange: () => pause(intervalMs, signal), signal });
}
