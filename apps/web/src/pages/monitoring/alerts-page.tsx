import type { ListAlertsResponseJson } from '@trellis/proto/trellis/monitoring/v1/alert_service_pb';
import type { ListMonitorsResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { AlertsTable } from './alerts-table';

const SHOWN = {
  open: { label: 'open (pending or firing)', states: ['ALERT_STATE_PENDING', 'ALERT_STATE_FIRING'] },
  resolved: { label: 'resolved', states: ['ALERT_STATE_RESOLVED'] },
  all: { label: 'all', states: [] },
} as const;
type Shown = keyof typeof SHOWN;

/** The project's alerts, newest first, open ones by default; rules live on each monitor's page. */
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
        <p className="muted">Each monitor's page lists its rules, and editors add them there.</p>
        <ul>
          {(monitors.data?.monitors ?? []).map((monitor) => (
            <li key={monitor.id}>
              <Link to={`../monitors/${monitor.id}`}>{monitor.name}</Link>
            </li>
          ))}
        </ul>
      </Panel>
    </Page>
  );
}
