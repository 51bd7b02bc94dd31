import type { AlertSeverityJson, AlertStateJson, ColumnResultJson, MonitorStateJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';

/** A window's verdict: dataset drift, some columns drifted, or none. */
export function WindowVerdict({ window }: { window: WindowResultJson }) {
  const drifted = window.driftedColumns ?? 0;
  if (window.datasetDrift) return <span className="badge bad">dataset drift</span>;
  if (drifted > 0) return <span className="badge warn">{drifted === 1 ? '1 column drifted' : `${drifted} columns drifted`}</span>;
  return <span className="badge good">no drift</span>;
}

/** A column's verdict in a window. */
export function ColumnVerdict({ column }: { column: ColumnResultJson }) {
  if (column.error) return <span className="badge warn">not scored</span>;
  return column.drifted ? <span className="badge bad">drifted</span> : <span className="badge good">ok</span>;
}

const MONITOR_STATE: Record<MonitorStateJson, { text: string; tone: string }> = {
  MONITOR_STATE_UNSPECIFIED: { text: 'unknown', tone: '' },
  MONITOR_STATE_PENDING: { text: 'pending', tone: 'warn' },
  MONITOR_STATE_ACTIVE: { text: 'active', tone: 'good' },
  MONITOR_STATE_FAILED: { text: 'failed', tone: 'bad' },
};

export function MonitorStateBadge({ state }: { state?: MonitorStateJson }) {
  const { text, tone } = MONITOR_STATE[state ?? 'MONITOR_STATE_UNSPECIFIED'];
  return <span className={`badge ${tone}`}>{text}</span>;
}

const ALERT_STATE: Record<AlertStateJson, { text: string; tone: string }> = {
  ALERT_STATE_UNSPECIFIED: { text: 'unknown', tone: '' },
  ALERT_STATE_PENDING: { text: 'pending', tone: 'warn' },
  ALERT_STATE_FIRING: { text: 'firing', tone: 'bad' },
  ALERT_STATE_RESOLVED: { text: 'resolved', tone: 'good' },
};

export function AlertStateBadge({ state }: { state?: AlertStateJson }) {
  const { text, tone } = ALERT_STATE[state ?? 'ALERT_STATE_UNSPECIFIED'];
  return <span className={`badge ${tone}`}>{text}</span>;
}

/** Severity in words, critical standing out. */
export function SeverityBadge({ severity }: { severity?: AlertSeverityJson }) {
  const text = (severity ?? 'ALERT_SEVERITY_WARNING').replace('ALERT_SEVERITY_', '').toLowerCase();
  return <span className={`badge ${text === 'critical' ? 'bad' : text === 'warning' ? 'warn' : ''}`}>{text}</span>;
}
