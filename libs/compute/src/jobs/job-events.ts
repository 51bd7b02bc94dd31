import { create } from '@bufbuild/protobuf';
import { Outbox, type OutboxEvent } from '@trellis/platform';
import { JobEventSchema, JobState } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { computeEvents } from '../compute.events';
import type { JobEntity, JobStateName } from './job.entity';

/** The states that have an event, and its subject. */
const SUBJECTS = {
  QUEUED: 'trellis.compute.v1.job.queued',
  ADMITTED: 'trellis.compute.v1.job.admitted',
  RUNNING: 'trellis.compute.v1.job.running',
  SUCCEEDED: 'trellis.compute.v1.job.succeeded',
  FAILED: 'trellis.compute.v1.job.failed',
  CANCELLED: 'trellis.compute.v1.job.cancelled',
} as const;

/** Who caused the change, for the event's envelope. */
export interface EventActor {
  actor: string;
  requestId?: string;
}

/**
 * Publishes `compute.job.<state>` for the job in `state` (STARTING has none), inside the transaction
 * of the change: the payload names the job, project, queue, run and dataset inputs.
 */
export async function publishJobEvent(outbox: Outbox, tx: EntityManager, job: JobEntity, state: JobStateName, context: EventActor & { attempt?: number; reason?: string }): Promise<void> {
  if (state === 'STARTING') return;
  await outbox.publish(tx, jobEventOf(job, state, context));
}

/** Publishes `compute.job.queued` for each of the jobs, in one write (submissions written together). */
export async function publishQueuedEvents(outbox: Outbox, tx: EntityManager, queued: ReadonlyArray<{ job: JobEntity; context: EventActor }>): Promise<void> {
  await outbox.publishAll(tx, queued.map(({ job, context }) => jobEventOf(job, 'QUEUED', context)));
}

function jobEventOf(job: JobEntity, state: Exclude<JobStateName, 'STARTING'>, context: EventActor & { attempt?: number; reason?: string }): OutboxEvent {
  const subject = SUBJECTS[state];
  const message = create(JobEventSchema, {
    jobId: job.id,
    projectId: job.projectId,
    queue: job.queue,
    state: JobState[state],
    reason: context.reason ?? job.reason,
    runId: job.runId,
    attempt: context.attempt ?? 0,
    datasetInputs: job.spec.inputs.map((input) => input.resolvedReference ?? input.reference),
    experimentId: job.spec.experimentId,
  });
  return { subject, schema: computeEvents.checked(subject, message), message, projectId: job.projectId, actor: context.actor, requestId: context.requestId ?? '' };
}
