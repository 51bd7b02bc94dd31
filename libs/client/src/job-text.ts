import type { JobJson, ResourceAmountJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { formatBytes } from './format-bytes';

/** How a job reads to people and in which order its queue admits it: the same in the web UI and the CLI. */

/** The states a job ends in. */
export const FINAL_JOB_STATES: ReadonlySet<string> = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);

/** Whether the job has ended (succeeded, failed or cancelled). */
export function isFinalJob(job: JobJson | undefined): boolean {
  return FINAL_JOB_STATES.has(job?.state ?? '');
}

/** An amount of a resource as people read it: `cpu` millicores as cores, `memory` bytes in GiB/MiB, GPUs as a count. */
export function quantity(resource: string | undefined, amount: string | number | undefined): string {
  const value = Number(amount ?? 0);
  if (resource === 'cpu') return `${value / 1000} ${value === 1000 ? 'core' : 'cores'}`;
  if (resource === 'memory') return formatBytes(value);
  return String(value);
}

/** Amounts as `cpu 1.5 cores, memory 2.0 GiB, gpu/h100 1`. */
export function amounts(list: readonly ResourceAmountJson[] | undefined): string {
  return (list ?? []).map(({ resource, amount }) => `${resource} ${quantity(resource, amount)}`).join(', ');
}

/** A command's words as a shell would need them written: quoted where they hold spaces or shell characters. */
export function shellWords(command: readonly string[]): string {
  return command.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Pending jobs in the order the admission loop considers them: higher priority first, then the
 * earlier submitted, then by id (libs/compute's admission order).
 */
export function inAdmissionOrder<Job extends JobJson>(jobs: readonly Job[]): Job[] {
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...jobs].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || Date.parse(a.createTime ?? '') - Date.parse(b.createTime ?? '') || byId(a.id ?? '', b.id ?? ''));
}
