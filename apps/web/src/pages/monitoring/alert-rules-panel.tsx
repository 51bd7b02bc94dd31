import { conditionText } from '@trellis/client';
import type { CreateAlertRuleResponseJson, ListAlertRulesResponseJson } from '@trellis/proto/trellis/monitoring/v1/alert_service_pb';
import type { AlertRuleJson, MonitorJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useState, type FormEvent } from 'react';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { Panel } from '../../components/page';
import { SeverityBadge } from './badges';

/** The kinds of condition the form offers, with how each reads and the rule field it fills. */
const CONDITIONS = {
  driftShare: 'Share of drifted columns at least',
  pValueBelow: "Column's p-value below",
  distanceAbove: "Column's distance above",
  missingRate: "Column's missing rate above",
  accuracyBelow: 'Accuracy below',
} as const;
type ConditionKind = keyof typeof CONDITIONS;

/** A monitor's alert rules; editors add and delete them (the API refuses viewers anyway). */
export function AlertRulesPanel({ monitor, canEdit }: { monitor: MonitorJson; canEdit: boolean }) {
  const monitorId = monitor.id ?? '';
  const rules = useRpc<ListAlertRulesResponseJson>('trellis.monitoring.v1.AlertService/ListAlertRules', { monitorId });
  const remove = useMutation('trellis.monitoring.v1.AlertService/DeleteAlertRule');
  const deleteRule = async (rule: AlertRuleJson) => {
    if (await remove.run({ ruleId: rule.id })) rules.reload();
  };
  return (
    <Panel title="Alert rules">
      <ErrorBanner error={rules.error ?? remove.error} />
      <DataTable
        label="Alert rules"
        rows={rules.data?.rules ?? []}
        rowKey={(rule) => rule.id ?? ''}
        empty="No rule: windows raise no alert."
        columns={[
          { key: 'name', header: 'Rule', cell: (rule) => rule.name },
          { key: 'condition', header: 'Alerts when', cell: (rule) => conditionText(rule) },
          { key: 'for', header: 'For', align: 'right', cell: (rule) => `${Number(rule.forSeconds ?? 0).toLocaleString()} s` },
          { key: 'severity', header: 'Severity', cell: (rule) => <SeverityBadge severity={rule.severity} /> },
          { key: 'notifiers', header: 'Notifies', cell: (rule) => (rule.notifiers ?? []).join(', ') },
          ...(canEdit
            ? [
                {
                  key: 'delete',
                  header: <span className="muted">Actions</span>,
                  cell: (rule: AlertRuleJson) => (
                    <button type="button" className="secondary" disabled={remove.pending} onClick={() => deleteRule(rule)} aria-label={`Delete rule ${rule.name}`}>
                      Delete
                    </button>
                  ),
                },
              ]
            : []),
        ]}
      />
      {canEdit ? <NewRuleForm monitor={monitor} onCreated={rules.reload} /> : null}
    </Panel>
  );
}

/** One condition, its bound, its severity and how long it must hold. */
function NewRuleForm({ monitor, onCreated }: { monitor: MonitorJson; onCreated(): void }) {
  const create = useMutation<CreateAlertRuleResponseJson>('trellis.monitoring.v1.AlertService/CreateAlertRule');
  const columns = (monitor.monitoredColumns ?? []).map((column) => column.name ?? '');
  const kinds = (Object.keys(CONDITIONS) as ConditionKind[]).filter((kind) => kind !== 'accuracyBelow' || monitor.performance?.task === 'TASK_TYPE_CLASSIFICATION');
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ConditionKind>('driftShare');
  const [column, setColumn] = useState('');
  const [bound, setBound] = useState('0.5');
  const [severity, setSeverity] = useState('ALERT_SEVERITY_WARNING');
  const [forSeconds, setForSeconds] = useState('0');
  const needsColumn = kind === 'pValueBelow' || kind === 'distanceAbove' || kind === 'missingRate';
  const chosenColumn = column || columns[0] || '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = Number(bound);
    const condition = {
      driftShare: { driftShare: { atLeast: value } },
      pValueBelow: { columnDistance: { column: chosenColumn, below: value } },
      distanceAbove: { columnDistance: { column: chosenColumn, above: value } },
      missingRate: { missingRate: { column: chosenColumn, above: value } },
      accuracyBelow: { performance: { metric: 'PERFORMANCE_METRIC_ACCURACY', below: value } },
    }[kind];
    const created = await create.run({ rule: { monitorId: monitor.id, name: name.trim(), severity, forSeconds: forSeconds.trim() || '0', ...condition } });
    if (created) {
      setName('');
      onCreated();
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="New alert rule">
      <label htmlFor="rule-name">Rule name</label>
      <input id="rule-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={128} />
      <label htmlFor="rule-condition">Alert when</label>
      <select id="rule-condition" value={kind} onChange={(event) => setKind(event.target.value as ConditionKind)}>
        {kinds.map((option) => (
          <option key={option} value={option}>
            {CONDITIONS[option]}
          </option>
        ))}
      </select>
      {needsColumn ? (
        <>
          <label htmlFor="rule-column">Column</label>
          <select id="rule-column" value={chosenColumn} onChange={(event) => setColumn(event.target.value)}>
            {columns.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </>
      ) : null}
      <label htmlFor="rule-bound">Bound</label>
      <input id="rule-bound" type="number" step="any" min={0} value={bound} onChange={(event) => setBound(event.target.value)} required />
      <label htmlFor="rule-for">For (seconds)</label>
      <input id="rule-for" type="number" min={0} max={2_592_000} value={forSeconds} onChange={(event) => setForSeconds(event.target.value)} />
      <label htmlFor="rule-severity">Severity</label>
      <select id="rule-severity" value={severity} onChange={(event) => setSeverity(event.target.value)}>
        <option value="ALERT_SEVERITY_INFO">info</option>
        <option value="ALERT_SEVERITY_WARNING">warning</option>
        <option value="ALERT_SEVERITY_CRITICAL">critical</option>
      </select>
      <button type="submit" disabled={create.pending}>
        Add rule
      </button>
      <ErrorBanner error={create.error} />
    </form>
  );
}
