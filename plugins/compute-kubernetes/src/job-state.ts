import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobStatus } from '@trellis/plugin-sdk';
import { COMPLETION_INDEX, QUEUE_LABEL } from './job-manifest';

/**
 * A job's status from its Job and pods: Complete or Failed conditions are final (the exit code from
 * the failed pod's container); a Job being deleted is cancelled; a suspended Job is pending (Kueue
 * has not admitted it); a pod that runs or ran makes it running; otherwise pending, with the pods'
 * reasons (Unschedulable, ImagePullBackOff) as the message.
 */
export function jobStatus(job: V1Job, pods: readonly V1Pod[]): JobStatus {
  const jobId = job.metadata?.name ?? '';
  const startedAt = firstStart(pods);
  const started = startedAt ? { startedAt } : {};
  const complete = condition(job, 'Complete');
  if (complete) return { jobId, state: 'succeeded', exitCode: 0, ...started, finishedAt: date(job.status?.completionTime) ?? date(complete.lastTransitionTime) ?? new Date() };
  const failed = condition(job, 'Failed');
  if (failed) {
    const failure = firstFailure(pods);
    const why = [failed.reason, failed.message].filter(Boolean).join(': ');
    return {
      jobId,
      state: 'failed',
      ...(failure ? { exitCode: failure.exitCode } : {}),
      message: failure ? `${why}; replica ${failure.replica} exited with code ${failure.exitCode}${failure.reason ? ` (${failure.reason})` : ''}` : why,
      ...started,
      finishedAt: date(failed.lastTransitionTime) ?? new Date(),
    };
  }
  if (job.metadata?.deletionTimestamp) return { jobId, state: 'cancelled', message: 'cancelled: the Job was deleted', ...started, finishedAt: date(job.metadata.deletionTimestamp) ?? new Date() };
  if (job.spec?.suspend) {
    const queue = job.metadata?.labels?.[QUEUE_LABEL];
    return { jobId, state: 'pending', message: queue ? `suspended until Kueue admits it from LocalQueue ${queue}` : 'suspended' };
  }
  if (pods.some((pod) => ['Running', 'Succeeded', 'Failed'].includes(pod.status?.phase ?? ''))) return { jobId, state: 'running', ...started };
  const waiting = pods.map(pendingReason).filter((reason): reason is string => reason !== undefined);
  return { jobId, state: 'pending', ...(waiting.length > 0 ? { message: [...new Set(waiting)].join('; ') } : {}) };
}

/** Whether the Job has ended (Complete or Failed); a Job being deleted has too, as cancelled. */
export function isFinal(job: V1Job): boolean {
  return condition(job, 'Complete') !== undefined || condition(job, 'Failed') !== undefined || job.metadata?.deletionTimestamp !== undefined;
}

/** The pod's replica: its completion index. */
export function replicaOf(pod: V1Pod): number {
  return Number(pod.metadata?.annotations?.[COMPLETION_INDEX] ?? pod.metadata?.labels?.[COMPLETION_INDEX] ?? 0);
}

/** A pod's failed container, lowest replica first: its exit code and reason. */
export function firstFailure(pods: readonly V1Pod[]): { replica: number; exitCode: number; reason?: string } | undefined {
  const failures = pods
    .map((pod) => ({ replica: replicaOf(pod), terminated: pod.status?.containerStatuses?.find((status) => status.state?.terminated)?.state?.terminated }))
    .filter(({ terminated }) => terminated !== undefined && terminated.exitCode !== 0)
    .sort((a, b) => a.replica - b.replica);
  const first = failures[0];
  return first?.terminated ? { replica: first.replica, exitCode: first.terminated.exitCode, ...(first.terminated.reason ? { reason: first.terminated.reason } : {}) } : undefined;
}

function condition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function firstStart(pods: readonly V1Pod[]): Date | undefined {
  const times = pods
    .flatMap((pod) => pod.status?.containerStatuses ?? [])
    .map((status) => date(status.state?.running?.startedAt ?? status.state?.terminated?.startedAt))
    .filter((time): time is Date => time !== undefined);
  return times.length > 0 ? new Date(Math.min(...times.map((time) => time.getTime()))) : undefined;
}

/** Why a pod is not running yet: the container's waiting reason, or the scheduler's. */
function pendingReason(pod: V1Pod): string | undefined {
  const replica = `replica ${replicaOf(pod)}`;
  const waiting = pod.status?.containerStatuses?.find((status) => status.state?.waiting?.reason && status.state.waiting.reason !== 'ContainerCreating')?.state?.waiting;
  if (waiting) return `${replica}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `${replica}: ${unscheduled.reason ?? 'Unschedulable'}${unscheduled.message ? `: ${unscheduled.message}` : ''}`;
  return undefined;
}

/** A time the client gives as a Date (read through the typed API) or a string (from a watch event). */
export function date(value: Date | string | undefined): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const time = value instanceof Date ? value : new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
