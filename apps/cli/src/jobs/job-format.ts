import type { JobJson, JobResourcesJson, ResourceAmountJson } from '@trellis/proto/trellis/compute/v1/resources_pb';

/** The states a job ends in. */
export const FINAL_STATES: ReadonlySet<string> = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);

/** The states `--state` takes, as people write them. */
export const STATE_NAMES = ['queued', 'admitted', 'starting', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export function isFinal(job: JobJson): boolean {
  return FINAL_STATES.has(job.state ?? '');
}

/** JOB_STATE_RUNNING -> running, ATTEMPT_STATE_FAILED -> failed. */
export function stateName(state: string | undefined): string {
  return (state ?? '').replace(/^(JOB|ATTEMPT)_STATE_/, '').toLowerCase();
}

/** An amount of a resource as people read it: `cpu` 1500 -> 1.5 cores, `memory` in GiB/MiB, GPUs as a count. */
export function quantity(resource: string | undefined, amount: string | number | undefined): string {
  const value = Number(amount ?? 0);
  if (resource === 'cpu') return `${value / 1000} ${value === 1000 ? 'core' : 'cores'}`;
  if (resource === 'memory') return bytes(value);
  return String(value);
}

/** Amounts as `cpu 1.5 cores, memory 2 GiB, gpu/h100 1`. */
export function amounts(list: readonly ResourceAmountJson[] | undefined): string {
  return (list ?? []).map(({ resource, amount }) => `${resource} ${quantity(resource, amount)}`).join(', ');
}

/** What one replica asks for, with the service's defaults where the spec leaves a field out. */
export function resourcesText(resources: JobResourcesJson | undefined): string {
  const parts = [`cpu ${quantity('cpu', resources?.cpuMillis ?? 1000)}`, `memory ${quantity('memory', resources?.memoryBytes ?? 2 ** 30)}`];
  if (resources?.gpus) parts.push(`${resources.gpus} GPU${resources.gpus === 1 ? '' : 's'}${resources.gpuType ? ` (${resources.gpuType})` : ''}`);
  return parts.join(', ');
}

/** What a job runs: its image and command, the command's words quoted where the shell would need it. */
export function commandText(job: JobJson): string {
  const words = (job.spec?.command ?? []).map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`));
  return [job.spec?.image, words.join(' ')].filter(Boolean).join(': ');
}

function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${Number(size.toFixed(2))} ${units[unit]}`;
}

/**
 * Pending jobs in the order the admission loop considers them: higher priority first, then the
 * earlier submitted, then by id (libs/compute's admission order).
 */
export function inAdmissionOrder<Job extends JobJson>(jobs: readonly Job[]): Job[] {
  return [...jobs].sort(
    (a, b) => (b.priority ?? 0) - (a.priority ?? 0) || Date.parse(a.createTime ?? '') - Date.parse(b.createTime ?? '') || compareIds(a.id ?? '', b.id ?? ''),
  );
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
