import { FINAL_JOB_STATES, type JobState, type JobStatus } from '@trellis/plugin-sdk';
import type { RayJobDetails, RayJobStatus } from './ray-jobs-client';

/** Ray's job states in the contract's terms; STOPPED is what `POST /api/jobs/<id>/stop` leads to. */
const STATES: Readonly<Record<RayJobStatus, JobState>> = {
  PENDING: 'pending',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  STOPPED: 'cancelled',
};

/** The longest message kept: Ray appends up to 20,000 characters of a failed job's log to its message. */
const MAX_MESSAGE = 1024;

/** The contract's status of a Ray job. An unknown state (a newer Ray's) counts as pending. */
export function jobStatus(job: RayJobDetails): JobStatus {
  const submissionId = job.submission_id ?? '';
  const state = STATES[job.status] ?? 'pending';
  const status: JobStatus = { jobId: submissionId, state };
  const message = job.message?.trim();
  if (message) status.message = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
  if (state !== 'pending' && job.start_time) status.startedAt = new Date(job.start_time);
  if (FINAL_JOB_STATES.includes(state)) {
    if (job.end_time) status.finishedAt = new Date(job.end_time);
    const exitCode = exitCodeOf(job);
    if (exitCode !== undefined) status.exitCode = exitCode;
  }
  return status;
}

/**
 * The entrypoint's exit code: Ray's `driver_exit_code` (a negative one is the signal that ended it,
 * as Python reports it: 128 + the signal here), else what the message says, else 0 for a success.
 */
function exitCodeOf(job: RayJobDetails): number | undefined {
  if (typeof job.driver_exit_code === 'number') return job.driver_exit_code < 0 ? 128 - job.driver_exit_code : job.driver_exit_code;
  const said = /exit code (\d+)/.exec(job.message ?? '');
  if (said) return Number(said[1]);
  return job.status === 'SUCCEEDED' ? 0 : undefined;
}
