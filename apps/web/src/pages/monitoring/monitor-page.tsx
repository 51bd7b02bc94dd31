import { sourceText, windowText } from '@trellis/client';
import type { ListAlertsResponseJson } from '@trellis/proto/trellis/monitoring/v1/alert_service_pb';
import type { GetMonitorResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { MonitorJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatNumber, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { AlertRulesPanel } from './alert-rules-panel';
import { AlertsTable } from './alerts-table';
import { ColumnVerdict, MonitorStateBadge, WindowVerdict } from './badges';
import { DriftCharts, DriftShareChart, PerformanceChart } from './drift-charts';
import { MAX_WINDOWS, useWindows } from './monitoring-api';

/** The spans the charts can cover, by the windows' close time. */
const RANGES = [
  { value: '1d', label: 'last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'last 30 days', ms: 30 * 86_400_000 },
  { value: 'all', label: 'all windows', ms: 0 },
];

/**
 * One monitor: its settings, the latest window's verdict per column, each column's drift score
 * over time against its threshold, performance once labels arrived, its alerts and its rules.
 */
export function MonitorPage() {
  const { monitorId = '' } = useParams();
  const { data, error, loading } = useRpc<GetMonitorResponseJson>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId });
  const monitor = data?.monitor;
  return (
    <Page title={monitor?.name ?? 'Monitor'} error={error} loading={loading} actions={monitor ? <DeleteMonitor monitor={monitor} /> : null}>
      {monitor ? <MonitorDetails monitor={monitor} /> : null}
    </Page>
  );
}

function MonitorDetails({ monitor }: { monitor: MonitorJson }) {
  const projectId = useProjectId();
  const canEdit = useCan('editor');
  const [range, setRange] = useState('7d');
  // The start of the span is fixed when the range is chosen, so the request does not change at each render.
  const since = useMemo(() => {
    const ms = RANGES.find((option) => option.value === range)?.ms ?? 0;
    return ms ? new Date(Date.now() - ms).toISOString() : undefined;
  }, [range]);
  const { windows = [], truncated, error, loading } = useWindows(monitor.id ?? '', since);
  const alerts = useRpc<ListAlertsResponseJson>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, monitorId: monitor.id, pageSize: 100 });
  const latest = windows[windows.length - 1];
  const labelled = windows.some((window) => window.performance);
  return (
    <>
      <Panel title="Settings">
        <Fields
          fields={[
            ['Watches', sourceText(monitor)],
            ['Status', <><MonitorStateBadge state={monitor.state} /> {monitor.stateMessage}</>],
            ['Reference', monitor.reference?.origin],
            ['Window', windowText(monitor.window, monitor)],
            ['Dataset drift at', `${formatNumber(monitor.driftShare ?? 0.5)} of columns drifted`],
            ['Performance', monitor.performance ? (monitor.performance.task ?? '').replace('TASK_TYPE_', '').toLowerCase() : 'none'],
            ['Windows scored', Number(monitor.windowsClosed ?? 0).toLocaleString()],
            ['Created', formatTime(monitor.createTime)],
          ]}
        />
      </Panel>
      <Panel title="Alerts">
        <ErrorBanner error={alerts.error} />
        <AlertsTable alerts={alerts.data?.alerts ?? []} label="Alerts of this monitor" />
      </Panel>
      <Panel
        title="Drift per column"
        actions={
          <>
            <label htmlFor="window-range">Windows closed in</label>
            <select id="window-range" value={range} onChange={(event) => setRange(event.target.value)}>
              {RANGES.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </>
        }
      >
        <ErrorBanner error={error} />
        {loading ? <p className="muted">Loading windows…</p> : null}
        {truncated ? <p className="muted">Showing the last {MAX_WINDOWS.toLocaleString()} windows: choose a shorter span for the others.</p> : null}
        {latest ? <LatestWindow window={latest} /> : !loading ? <p className="muted">No window closed in this span.</p> : null}
        {windows.length ? (
          <>
            <h3>Share of drifted columns</h3>
            <DriftShareChart windows={windows} driftShare={Number(monitor.driftShare ?? 0.5)} />
            <DriftCharts windows={windows} columns={monitor.monitoredColumns ?? []} />
          </>
        ) : null}
      </Panel>
      {labelled ? (
        <Panel title="Performance">
          <PerformanceChart windows={windows} regression={monitor.performance?.task === 'TASK_TYPE_REGRESSION'} />
        </Panel>
      ) : null}
      <AlertRulesPanel monitor={monitor} canEdit={canEdit} />
    </>
  );
}

/** The last window's verdict, and each column's. */
function LatestWindow({ window }: { window: WindowResultJson }) {
  return (
    <>
      <p>
        Latest window #{window.number}, {Number(window.rows ?? 0).toLocaleString()} rows, closed {formatTime(window.closeTime)}: <WindowVerdict window={window} />
      </p>
      <DataTable
        label="Latest window's verdict per column"
        rows={window.columns ?? []}
        rowKey={(column) => column.column ?? ''}
        columns={[
          { key: 'column', header: 'Column', cell: (column) => column.column },
          { key: 'verdict', header: 'Verdict', cell: (column) => <ColumnVerdict column={column} /> },
          { key: 'detector', header: 'Detector', cell: (column) => column.detector },
          { key: 'statistic', header: 'Statistic', align: 'right', cell: (column) => formatNumber(column.statistic ?? 0) },
          { key: 'value', header: 'p-value or distance', align: 'right', cell: (column) => `${formatNumber(column.value ?? 0)} ${column.pValue ? '(p)' : '(d)'}` },
          { key: 'threshold', header: 'Threshold', align: 'right', cell: (column) => formatNumber(column.threshold ?? 0) },
          { key: 'rows', header: 'Rows', align: 'right', cell: (column) => Number(column.rows ?? 0).toLocaleString() },
          { key: 'missing', header: 'Missing', align: 'right', cell: (column) => `${formatNumber(100 * Number(column.missingRate ?? 0))} %` },
          { key: 'error', header: 'Note', cell: (column) => column.error },
        ]}
      />
    </>
  );
}

/** Deleting takes a second click: it removes the monitor's windows, rules and alerts too. */
function DeleteMonitor({ monitor }: { monitor: MonitorJson }) {
  const canEdit = useCan('editor');
  const navigate = useNavigate();
  const remove = useMutation('trellis.monitoring.v1.MonitoringService/DeleteMonitor');
  const [confirming, setConfirming] = useState(false);
  if (!canEdit) return <Link to="../monitors">All monitors</Link>;
  const confirm = async () => {
    if (await remove.run({ monitorId: monitor.id })) navigate('../monitors');
  };
  return (
    <>
      <Link to="../monitors">All monitors</Link>
      {confirming ? (
        <>
          <span>Delete {monitor.name} with its windows, rules and alerts?</span>
          <button type="button" className="danger" onClick={confirm} disabled={remove.pending}>
            Yes, delete
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete monitor
        </button>
      )}
      <ErrorBanner error={remove.error} />
    </>
  );
}
