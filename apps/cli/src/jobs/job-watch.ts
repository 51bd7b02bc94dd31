import { isFinalJob, type GatewayClient } from '@trellis/client';
import type { GetJobResponseJson, StreamJobLogsResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { AttemptJson, JobJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often a command that waits for a job looks at it (the API has no watch call for jobs). */
const POLL_MS = 500;

export async function getJob(client: GatewayClient, jobId: string, signal?: AbortSignal): Promise<JobJson> {
  const { job = {} } = await client.call<GetJobResponseJson>('trellis.compute.v1.JobService/GetJob', { jobId }, { signal });
  return job;
}

/**
 * Looks at the job until `until(job)` holds and returns it; `onChange` hears of each new state
 * and reason on the way (the first look included).
 */
export async function watchJob(
  client: GatewayClient,
  jobId: string,
  until: (job: JobJson) => boolean,
  { signal, onChange }: { signal?: AbortSignal; onChange?: (job: JobJson) => void } = {},
): Promise<JobJson> {
  let seen = '';
  for (;;) {
    const job = await getJob(client, jobId, signal);
    const now = `${job.state} ${job.reason ?? ''}`;
    if (now !== seen) onChange?.(job);
    seen = now;
    if (until(job)) return job;
    await sleep(POLL_MS, undefined, { signal });
  }
}

/** The latest attempt numbered `from` or later that a backend has (so it has logs), if any. */
function startedAttempt(job: JobJson, from: number): AttemptJson | undefined {
  return (job.attempts ?? []).filter((attempt) => (attempt.number ?? 0) >= from && attempt.backendJobId).at(-1);
}

/**
 * A job's lines as `tail -f` shows a file's: the latest attempt's from its start, then every later
 * attempt's (a retry) as it runs, until the job ends. While the job waits to start, `onWait` hears
 * of each state and reason.
 */
export async function* followJobLogs(
  client: GatewayClient,
  jobId: string,
  { signal, onWait }: { signal?: AbortSignal; onWait?: (job: JobJson) => void } = {},
): AsyncGenerator<StreamJobLogsResponseJson> {
  let from = 0;
  for (;;) {
    const job = await watchJob(client, jobId, (current) => isFinalJob(current) || startedAttempt(current, from) !== undefined, { signal, onChange: onWait });
    const attempt = startedAttempt(job, from);
    if (!attempt) return;
    yield* client.stream<StreamJobLogsResponseJson>('trellis.compute.v1.JobService/StreamJobLogs', { jobId, attempt: attempt.number, follow: true }, { signal });
    from = (attempt.number ?? 0) + 1;
  }
}

/**
 * Runs `work` until it ends or the user presses Ctrl-C (SIGINT), which aborts its signal: what it
 * streams or waits for stops at once. Resolves true when it was interrupted.
 */
export async function untilInterrupted(work: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  try {
    await work(abort.signal);
    return false;
  } catch (error) {
    if (abort.signal.aborted) return true;
    throw error;
  } finally {
    process.off('SIGINT', stop);
  }
}
