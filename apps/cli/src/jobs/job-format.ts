import { quantity, shellWords } from '@trellis/client';
import type { JobJson, JobResourcesJson } from '@trellis/proto/trellis/compute/v1/resources_pb';

/** The states `--state` takes, as people write them. */
export const STATE_NAMES = ['queued', 'admitted', 'starting', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** JOB_STATE_RUNNING -> running, ATTEMPT_STATE_FAILED -> failed. */
export function stateName(state: string | undefined): string {
  return (state ?? '').replace(/^(JOB|ATTEMPT)_STATE_/, '').toLowerCase();
}

/** What one replica asks for, with the service's defaults where the spec leaves a field out. */
export function resourcesText(resources: JobResourcesJson | undefined): string {
  const parts = [`cpu ${quantity('cpu', resources?.cpuMillis ?? 1000)}`, `memory ${quantity('memory', resources?.memoryBytes ?? 2 ** 30)}`];
  if (resources?.gpus) parts.push(`${resources.gpus} GPU${resources.gpus === 1 ? '' : 's'}${resources.gpuType ? ` (${resources.gpuType})` : ''}`);
  return parts.join(', ');
}

/** What a job runs: its image and command, the command's words quoted where the shell would need it. */
export function commandText(job: JobJson): string {
  return [job.spec?.image, shellWords(job.spec?.command ?? [])].filter(Boolean).join(': ');
}
