import { enumLabel } from '../../components/format';

const TONE: Record<string, string> = {
  RUN_STATUS_FINISHED: 'badge good',
  RUN_STATUS_FAILED: 'badge bad',
  RUN_STATUS_KILLED: 'badge bad',
  RUN_STATUS_RUNNING: 'badge warn',
};

/** A run's status as a badge: finished good, failed or killed bad, running in progress. */
export function RunStatusBadge({ status }: { status?: string }) {
  return <span className={TONE[status ?? ''] ?? 'badge'}>{enumLabel(status, 'RUN_STATUS_')}</span>;
}
