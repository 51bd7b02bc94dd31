import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { AttemptSchema, AttemptState, DatasetInputMode, JobSchema, JobSpecSchema, JobState, type Attempt, type Job, type JobSpec } from '@trellis/proto';
import { durationOf } from '../durations';
import type { StoredJobSpec } from './job-spec';
import type { AttemptEntity, JobEntity, JobStateName } from './job.entity';

/** The stored state a proto JobState names; undefined for UNSPECIFIED. */
export function stateName(state: JobState): JobStateName | undefined {
  return state === JobState.UNSPECIFIED ? undefined : (JobState[state] as JobStateName);
}

/** The proto of a job, with its attempts when given. */
export function jobToProto(job: JobEntity, attempts: readonly AttemptEntity[] = []): Job {
  return create(JobSchema, {
    id: job.id,
    projectId: job.projectId,
    queue: job.queue,
    spec: specToProto(job.spec),
    priority: job.priority,
    state: JobState[job.state],
    reason: job.reason,
    runId: job.runId,
    attempts: attempts.map(attemptToProto),
    creatorId: job.creatorId,
    createTime: timestampFromMs(job.createdAt),
    updateTime: timestampFromMs(job.updatedAt),
    gpuType: Object.keys(job.admittedRequest ?? {}).find((name) => name.startsWith('gpu/'))?.slice(4) ?? '',
    borrowing: job.borrowing,
  });
}

function specToProto(spec: StoredJobSpec): JobSpec {
  return create(JobSpecSchema, {
    name: spec.name,
    image: spec.image ?? '',
    command: spec.command,
    env: spec.env,
    resources: { cpuMillis: BigInt(spec.resources.cpuMillis), memoryBytes: BigInt(spec.resources.memoryBytes), gpus: spec.resources.gpus, gpuType: spec.resources.gpuType },
    replicas: spec.replicas,
    retries: { maxRetries: spec.retries.max, backoff: durationOf(spec.retries.backoffMs) },
    timeout: spec.timeoutMs ? durationOf(spec.timeoutMs) : undefined,
    inputs: spec.inputs.map((input) => ({ reference: input.reference, mode: DatasetInputMode[input.mode], resolvedReference: input.resolvedReference ?? '' })),
    experimentId: spec.experimentId,
    priorityClass: spec.priorityClass,
  });
}

function attemptToProto(attempt: AttemptEntity): Attempt {
  return create(AttemptSchema, {
    number: attempt.number,
    state: AttemptState[attempt.state],
    backendJobId: attempt.backendJobId,
    startTime: attempt.startedAt === null ? undefined : timestampFromMs(attempt.startedAt),
    finishTime: attempt.finishedAt === null ? undefined : timestampFromMs(attempt.finishedAt),
    exitCode: attempt.exitCode ?? undefined,
    reason: attempt.reason,
    createTime: timestampFromMs(attempt.createdAt),
    cluster: attempt.cluster,
    placement: attempt.placement,
  });
}
