import { quantity } from '@trellis/client';
import type { GrantJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { enumLabel } from '../../components/format';

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

/** What the grant holds in use of `resource` now. */
export function usageOf(grant: GrantJson, resource: string | undefined): string {
  return quantity(resource, grant.usage?.find((usage) => usage.resource === resource)?.amount ?? 0);
}
