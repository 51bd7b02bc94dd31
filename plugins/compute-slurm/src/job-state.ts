import type { JobState, JobStatus } from '@trellis/plugin-sdk';
import type { SlurmJob } from './slurm-client';

/**
 * Slurm's job states (base and flag states, `job_state_string` in 22.05) in the contract's terms.
 * Not yet started: pending. Started and not final: running (a suspended or completing job has
 * started). A job Slurm stopped (time limit, node failure, preemption, out of memory) failed: the
 * compute service may retry it; only `scancel` makes a job cancelled.
 */
const STATES: Readonly<Record<string, JobState>> = {
  PENDING: 'pending',
  CONFIGURING: 'pending',
  REQUEUED: 'pending',
  REQUEUE_HOLD: 'pending',
  REQUEUE_FED: 'pending',
  RESV_DEL_HOLD: 'pending',
  RUNNING: 'running',
  COMPLETING: 'running',
  SUSPENDED: 'running',
  STOPPED: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  RESIZING: 'running',
  COMPLETED: 'succeeded',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  NODE_FAIL: 'failed',
  PREEMPTED: 'failed',
  BOOT_FAIL: 'failed',
  DEADLINE: 'failed',
  OUT_OF_MEMORY: 'failed',
  SPECIAL_EXIT: 'failed',
  REVOKED: 'failed',
};

/** States whose name says more than the contract's state does, so the message keeps them. */
const PLAIN = new Set(['PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED']);

/** The contract's status of a Slurm job. An unknown state counts as running once the job has a start time. */
export function jobStatus(job: SlurmJob): JobStatus {
  const state = STATES[job.state] ?? (job.startTime > 0 && job.startTime * 1000 <= Date.now() ? 'running' : 'pending');
  const status: JobStatus = { jobId: job.id, state };
  const message = [PLAIN.has(job.state) ? '' : job.state, job.reason === 'None' ? '' : job.reason, job.description].filter(Boolean).join(': ');
  if (message) status.message = message;
  if (state !== 'pending' && job.startTime > 0) status.startedAt = new Date(job.startTime * 1000);
  if (state === 'succeeded' || state === 'failed' || state === 'cancelled') {
    if (job.endTime > 0) status.finishedAt = new Date(job.endTime * 1000);
    if (job.waitStatus !== undefined) status.exitCode = exitCode(job.waitStatus);
  }
  return status;
}

/** A wait status as a shell reports it: the exit code, or 128 + the signal that ended the script. */
function exitCode(waitStatus: number): number {
  const signal = waitStatus & 0x7f;
  return signal ? 128 + signal : (waitStatus >> 8) & 0xff;
}
