import { sourceText, windowText } from '@trellis/client';
import type { ListEndpointsResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { CreateMonitorResponseJson, ListMonitorsResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { MonitorJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useRpc } from '../../api/use-rpc';
import { useSession } from '../../api/session';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatTime } from '../../components/format';
import { Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { MonitorStateBadge, WindowVerdict } from './badges';
import { fetchLastWindow } from './monitoring-api';

/** The project's monitors: what each watches, its state and its last window's verdict; editors create one here. */
export function MonitorsPage() {
  const projectId = useProjectId();
  const canEdit = useCan('editor');
  const { data, error, loading } = useRpc<ListMonitorsResponseJson>('trellis.monitoring.v1.MonitoringService/ListMonitors', { projectId, pageSize: 1000 });
  const monitors = data?.monitors ?? [];
  return (
    <Page title="Monitoring" error={error} loading={loading} actions={<Link to="../alerts">Alerts</Link>}>
      <DataTable
        label="Monitors"
        rows={monitors}
        rowKey={(monitor) => monitor.id ?? ''}
        empty="No monitor yet: an editor creates one for an endpoint below."
        columns={[
          { key: 'name', header: 'Monitor', cell: (monitor) => <Link to={monitor.id ?? ''}>{monitor.name}</Link> },
          { key: 'source', header: 'Watches', cell: (monitor) => sourceText(monitor) },
          { key: 'state', header: 'Status', cell: (monitor) => <MonitorStateBadge state={monitor.state} /> },
          { key: 'window', header: 'Window', cell: (monitor) => windowText(monitor.window, monitor) },
          { key: 'windows', header: 'Windows scored', align: 'right', cell: (monitor) => Number(monitor.windowsClosed ?? 0).toLocaleString() },
          { key: 'last', header: 'Last window', cell: (monitor) => <LastWindow monitor={monitor} /> },
        ]}
      />
      {canEdit ? <CreateMonitorPanel projectId={projectId} /> : null}
    </Page>
  );
}

/** The verdict of a monitor's last window (in the last 30 days) and when it closed. */
function LastWindow({ monitor }: { monitor: MonitorJson }) {
  const { client } = useSession();
  const [state, setState] = useState<{ window?: WindowResultJson; done: boolean; error?: Error }>({ done: false });
  const monitorId = monitor.id ?? '';
  const scored = Number(monitor.windowsClosed ?? 0) > 0;
  useEffect(() => {
    if (!scored) return;
    const abort = new AbortController();
    fetchLastWindow(client, monitorId, abort.signal).then(
      (window) => !abort.signal.aborted && setState({ window, done: true }),
      (error: Error) => !abort.signal.aborted && setState({ error, done: true }),
    );
    return () => abort.abort();
  }, [client, monitorId, scored]);
  if (!scored) return <span className="muted">none yet</span>;
  if (state.error) return <span className="muted">unavailable: {state.error.message.slice(0, 80)}</span>;
  if (!state.done) return <span className="muted">…</span>;
  if (!state.window) return <span className="muted">none in 30 days</span>;
  return (
    <>
      <WindowVerdict window={state.window} /> <span className="muted">#{state.window.number}, {formatTime(state.window.closeTime)}</span>
    </>
  );
}

/** A monitor of an endpoint with the defaults (reference through lineage), its window size the one choice. */
function CreateMonitorPanel({ projectId }: { projectId: string }) {
  const navigate = useNavigate();
  const endpoints = useRpc<ListEndpointsResponseJson>('trellis.serving.v1.EndpointService/ListEndpoints', { projectId, pageSize: 1000 });
  const create = useMutation<CreateMonitorResponseJson>('trellis.monitoring.v1.MonitoringService/CreateMonitor');
  const [name, setName] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [rows, setRows] = useState('1000');
  const names = (endpoints.data?.endpoints ?? []).map((listed) => listed.name ?? '');
  const chosen = endpoint || names[0] || '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await create.run({ projectId, name: name.trim(), endpoint: { endpointName: chosen }, window: { rows: rows.trim() } });
    if (answer?.monitor?.id) navigate(answer.monitor.id);
  };
  return (
    <Panel title="New monitor">
      <p className="muted">Compares the endpoint's logged predictions with the data its model was trained on (found through lineage), one window of rows at a time.</p>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor="monitor-name">Name</label>
        <input id="monitor-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={128} />
        <label htmlFor="monitor-endpoint">Endpoint</label>
        <select id="monitor-endpoint" value={chosen} onChange={(event) => setEndpoint(event.target.value)} required>
          {names.length === 0 ? <option value="">no endpoint</option> : null}
          {names.map((listed) => (
            <option key={listed} value={listed}>
              {listed}
            </option>
          ))}
        </select>
        <label htmlFor="monitor-rows">Rows per window</label>
        <input id="monitor-rows" type="number" min={1} max={1_000_000} value={rows} onChange={(event) => setRows(event.target.value)} required />
        <button type="submit" disabled={create.pending || !chosen}>
          Create monitor
        </button>
      </form>
      <ErrorBanner error={create.error ?? endpoints.error} />
    </Panel>
  );
}
