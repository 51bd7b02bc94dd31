import { conditionText } from '@trellis/client';
import type { ListAlertRulesResponseJson, ListAlertsResponseJson } from '@trellis/proto/trellis/monitoring/v1/alert_service_pb';
import type { ListMonitorsResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { AlertRuleJson, MonitorJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../../api/session';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { AlertsTable } from './alerts-table';
import { SeverityBadge } from './badges';

const SHOWN = {
  open: { label: 'open (pending or firing)', states: ['ALERT_STATE_PENDING', 'ALERT_STATE_FIRING'] },
  resolved: { label: 'resolved', states: ['ALERT_STATE_RESOLVED'] },
  all: { label: 'all', states: [] },
} as const;
type Shown = keyof typeof SHOWN;

/** One empty list, so a project without monitors does not ask for rules at every render. */
const NO_MONITORS: MonitorJson[] = [];

/** The project's alerts, newest first (open ones unless asked), and every monitor's alert rules. */
export function AlertsPage() {
  const projectId = useProjectId();
  const [shown, setShown] = useState<Shown>('open');
  const alerts = useRpc<ListAlertsResponseJson>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, states: SHOWN[shown].states, pageSize: 500 });
  const monitors = useRpc<ListMonitorsResponseJson>('trellis.monitoring.v1.MonitoringService/ListMonitors', { projectId, pageSize: 1000 });
  const names = useMemo(() => new Map((monitors.data?.monitors ?? []).map((monitor) => [monitor.id ?? '', monitor.name ?? ''])), [monitors.data]);
  return (
    <Page title="Alerts" error={alerts.error ?? monitors.error} loading={alerts.loading} actions={<Link to="../monitors">Monitors</Link>}>
      <Panel
        title={`Alerts: ${SHOWN[shown].label}`}
        actions={
          <>
            <label htmlFor="alerts-shown">Show</label>
            <select id="alerts-shown" value={shown} onChange={(event) => setShown(event.target.value as Shown)}>
              {(Object.keys(SHOWN) as Shown[]).map((option) => (
                <option key={option} value={option}>
                  {SHOWN[option].label}
                </option>
              ))}
            </select>
          </>
        }
      >
        <AlertsTable alerts={alerts.data?.alerts ?? []} monitorNames={names} label="Alerts" />
        {alerts.data?.nextPageToken ? <p className="muted">The newest 500 are shown: `trellis alerts list --limit` lists more.</p> : null}
      </Panel>
      <Panel title="Rules">
        <p className="muted">Editors add and delete a monitor's rules on its page.</p>
        {monitors.data ? <ProjectRules monitors={monitors.data.monitors ?? NO_MONITORS} /> : null}
      </Panel>
    </Page>
  );
}

/** Every monitor's rules, one table: which monitor, when it alerts, for how long, how urgently, whom it tells. */
function ProjectRules({ monitors }: { monitors: readonly MonitorJson[] }) {
  const { client } = useSession();
  const [state, setState] = useState<{ rows: Array<{ monitor: MonitorJson; rule: AlertRuleJson }>; error?: Error }>({ rows: [] });
  useEffect(() => {
    const abort = new AbortController();
    const rulesOf = (monitor: MonitorJson) =>
      client.call<ListAlertRulesResponseJson>('trellis.monitoring.v1.AlertService/ListAlertRules', { monitorId: monitor.id }, { signal: abort.signal }).then(({ rules = [] }) => rules.map((rule) => ({ monitor, rule })));
    Promise.all(monitors.map(rulesOf)).then(
      (lists) => !abort.signal.aborted && setState({ rows: lists.flat() }),
      (error: Error) => !abort.signal.aborted && setState({ rows: [], error }),
    );
    return () => abort.abort();
  }, [client, monitors]);
  return (
    <>
      <ErrorBanner error={state.error} />
      <DataTable
        label="Alert rules"
        rows={state.rows}
        rowKey={({ rule }) => rule.id ?? ''}
        empty="No rule: no monitor raises alerts."
        columns={[
          { key: 'monitor', header: 'Monitor', cell: ({ monitor }) => <Link to={`../monitors/${monitor.id}`}>{monitor.name}</Link> },
          { key: 'rule', header: 'Rule', cell: ({ rule }) => rule.name },
          { key: 'condition', header: 'Alerts when', cell: ({ rule }) => conditionText(rule) },
          { key: 'for', header: 'For', align: 'right', cell: ({ rule }) => `${Number(rule.forSeconds ?? 0).toLocaleString()} s` },
          { key: 'severity', header: 'Severity', cell: ({ rule }) => <SeverityBadge severity={rule.severity} /> },
          { key: 'notifiers', header: 'Notifies', cell: ({ rule }) => (rule.notifiers ?? []).join(', ') },
        ]}
      />
    </>
  );
}
