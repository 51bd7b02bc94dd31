import type { AlertJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { Link } from 'react-router';
import { DataTable } from '../../components/data-table';
import { formatNumber, formatTime } from '../../components/format';
import { AlertStateBadge, SeverityBadge } from './badges';

/** Alerts, newest first: state, severity, monitor (a link, when `monitorNames` is given), rule, window, times and what held. */
export function AlertsTable({ alerts, monitorNames, label }: { alerts: readonly AlertJson[]; monitorNames?: ReadonlyMap<string, string>; label: string }) {
  return (
    <DataTable
      label={label}
      rows={alerts}
      rowKey={(alert) => alert.id ?? ''}
      empty="No alert."
      columns={[
        { key: 'state', header: 'State', cell: (alert) => <AlertStateBadge state={alert.state} /> },
        { key: 'severity', header: 'Severity', cell: (alert) => <SeverityBadge severity={alert.severity} /> },
        ...(monitorNames
          ? [{ key: 'monitor', header: 'Monitor', cell: (alert: AlertJson) => <Link to={`../monitors/${alert.monitorId}`}>{monitorNames.get(alert.monitorId ?? '') ?? alert.monitorId}</Link> }]
          : []),
        { key: 'rule', header: 'Rule', cell: (alert) => alert.ruleName },
        { key: 'summary', header: 'What holds', cell: (alert) => alert.summary },
        { key: 'value', header: 'Value', align: 'right', cell: (alert) => formatNumber(alert.value ?? 0) },
        { key: 'window', header: 'Window', align: 'right', cell: (alert) => alert.windowNumber },
        { key: 'since', header: 'Since', cell: (alert) => formatTime(alert.pendingTime) },
        { key: 'fired', header: 'Fired', cell: (alert) => formatTime(alert.firingTime) },
        { key: 'resolved', header: 'Resolved', cell: (alert) => formatTime(alert.resolvedTime) },
      ]}
    />
  );
}
