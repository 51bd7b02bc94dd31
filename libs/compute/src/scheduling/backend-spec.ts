import type { JobSpec } from '@trellis/plugin-sdk';
import type { AttemptEntity, JobEntity } from '../jobs/job.entity';

/** Labels every backend job of an attempt carries, so `list(labels)` finds what the service submitted. */
export function attemptLabels(job: Pick<JobEntity, 'id' | 'projectId'>, attempt: Pick<AttemptEntity, 'number'>): Record<string, string> {
  return { 'trellis-job': job.id, 'trellis-attempt': String(attempt.number), 'trellis-project': job.projectId };
}

/**
 * What the backend is asked to run for an attempt: the spec with the GPU type admission chose, the
 * labels, and the job's environment plus the variables that tell it where it runs (`TRELLIS_*`,
 * and MLflow's when the job has a run: `extraEnv`).
 */
export function backendSpec(job: JobEntity, attempt: Pick<AttemptEntity, 'number'>, extraEnv: Readonly<Record<string, string>> = {}): JobSpec {
  const { spec } = job;
  const gpuType = Object.keys(job.admittedRequest ?? {})
    .find((name) => name.startsWith('gpu/'))
    ?.slice(4);
  const env = {
    ...spec.env,
    TRELLIS_JOB_ID: job.id,
    TRELLIS_ATTEMPT: String(attempt.number),
    TRELLIS_PROJECT_ID: job.projectId,
    TRELLIS_QUEUE: job.queue,
    TRELLIS_DATASET_INPUTS: JSON.stringify(spec.inputs),
    ...extraEnv,
  };
  const resources = {
    cpus: spec.resources.cpuMillis / 1000,
    memoryBytes: spec.resources.memoryBytes,
    ...(spec.resources.gpus > 0 ? { gpus: { count: spec.resources.gpus, ...(gpuType ? { type: gpuType } : {}) } } : {}),
  };
  const common = { name: spec.name, resources, replicas: spec.replicas, env, labels: attemptLabels(job, attempt) };
  return spec.image === undefined ? { ...common, command: spec.command } : { ...common, image: spec.image, ...(spec.command.length ? { command: spec.command } : {}) };
}
