import type { GrantJson, JobJson, ResourceAmountJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { enumLabel, formatBytes } from '../../components/format';

/** The states a job ends in. */
const FINAL_STATES: ReadonlySet<string> = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);

export function isFinal(job: JobJson | undefined): boolean {
  return FINAL_STATES.has(job?.state ?? '');
}

/** The states the jobs list filters by, as the API names them. */
export const JOB_STATES = ['JOB_STATE_QUEUED', 'JOB_STATE_ADMITTED', 'JOB_STATE_STARTING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'];

const BADGE: Record<string, string> = {
  SUCCEEDED: 'good',
  FAILED: 'bad',
  QUEUED: 'warn',
};

/** A job's or an attempt's state as a badge: green when it succeeded, red when it failed, amber while it waits. */
export function StateBadge({ state }: { state: string | undefined }) {
  const name = (state ?? '').replace(/^(JOB|ATTEMPT)_STATE_/, '');
  return <span className={`badge ${BADGE[name] ?? ''}`.trim()}>{enumLabel(state, state?.startsWith('ATTEMPT') ? 'ATTEMPT_STATE_' : 'JOB_STATE_')}</span>;
}

/** An amount of a resource as people read it: `cpu` millicores as cores, `memory` in bytes, GPUs as a count. */
export function quantity(resource: string | undefined, amount: string | number | undefined): string {
  const value = Number(amount ?? 0);
  if (resource === 'cpu') return `${value / 1000} ${value === 1000 ? 'core' : 'cores'}`;
  if (resource === 'memory') return formatBytes(value);
  return String(value);
}

/** Amounts as `cpu 1.5 cores, memory 2.0 GiB`. */
export function amounts(list: readonly ResourceAmountJson[] | undefined): string {
  return (list ?? []).map(({ resource, amount }) => `${resource} ${quantity(resource, amount)}`).join(', ');
}

/** What the grant holds in use of `resource` now. */
export function usageOf(grant: GrantJson, resource: string | undefined): string {
  return quantity(resource, grant.usage?.find((usage) => usage.resource === resource)?.amount ?? 0);
}

/**
 * Pending jobs in the order the admission loop considers them: higher priority first, then the
 * earlier submitted, then by id (libs/compute's admission order).
 */
export function inAdmissionOrder(jobs: readonly JobJson[]): JobJson[] {
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...jobs].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || Date.parse(a.createTime ?? '') - Date.parse(b.createTime ?? '') || byId(a.id ?? '', b.id ?? ''));
}

/** A command's words as a shell would need them written: quoted where they hold spaces or shell characters. */
export function commandText(command: readonly string[]): string {
  return command.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}
