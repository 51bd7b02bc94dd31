import type { CreateAlertRuleResponseJson, ListAlertRulesResponseJson, ListAlertsResponseJson } from '@trellis/proto/trellis/monitoring/v1/alert_service_pb';
import type { CreateMonitorResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { AlertJson, AlertRuleJson, AlertStateJson, ColumnResultJson, MonitorJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import type { ListPluginInstancesResponseJson } from '@trellis/proto/trellis/plugins/v1/plugin_instance_service_pb';
import { Option } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import { alertRuleRequest, METRICS, SEVERITIES, type AlertRuleOptions } from '../monitoring/alert-rule-request';
import { collect, parseCount, parseDuration } from '../monitoring/arguments';
import { conditionText, enumText, sourceText, verdictText, windowText } from '@trellis/client';
import { createMonitorRequest, type CreateMonitorOptions } from '../monitoring/monitor-request';
import { findMonitor, lastWindows, listMonitors } from '../monitoring/monitor-lookup';
import type { CommandGroup } from '../command-group';

const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;

/** `trellis monitors` and `trellis alerts`: drift and performance of endpoints and datasets, and the alerts they raise. */
export const registerMonitors: CommandGroup = (program, context) => {
  const monitors = program.command('monitors').description("monitors that compare an endpoint's traffic (or a dataset's new versions) with the training data, window by window");
  monitors
    .command('list')
    .description("list the project's monitors")
    .addHelpText('after', '\nExample:\n  trellis monitors list --project churn')
    .action(async () => {
      const ctx = context();
      const rows = await listMonitors(ctx.client(), await ctx.projectId());
      ctx.output.table(rows, [
        { header: 'name', value: (monitor) => monitor.name },
        { header: 'id', value: (monitor) => monitor.id },
        { header: 'watches', value: (monitor) => sourceText(monitor) },
        { header: 'state', value: (monitor) => enumText(monitor.state, 'MONITOR_STATE_') },
        { header: 'window', value: (monitor) => windowText(monitor.window, monitor) },
        { header: 'windows', value: (monitor) => monitor.windowsClosed ?? '0' },
      ]);
    });

  monitors
    .command('show <monitor>')
    .description("a monitor's settings, its columns and detectors, and its last windows (the monitor by id, name, or the endpoint it watches)")
    .option('--last <n>', 'how many of the last windows to show', '5')
    .addHelpText('after', '\nExamples:\n  trellis monitors show churn-drift\n  trellis monitors show churn --last 10 -o json')
    .action(async (ref: string, options: { last: string }) => {
      const ctx = context();
      const monitor = await findMonitor(ctx, ref);
      const windows = await lastWindows(ctx.client(), monitor.id ?? '', parseCount(options.last, '--last', 1, 1000));
      if (ctx.output.format === 'json') return ctx.output.json({ monitor, windows });
      ctx.output.fields([
        ['name', monitor.name],
        ['id', monitor.id],
        ['watches', sourceText(monitor)],
        ['state', `${enumText(monitor.state, 'MONITOR_STATE_')}${monitor.stateMessage ? `: ${monitor.stateMessage}` : ''}`],
        ['reference', monitor.reference?.origin],
        ['window', windowText(monitor.window, monitor)],
        ['dataset drift at', `${monitor.driftShare ?? 0} of columns drifted`],
        ['performance', monitor.performance ? enumText(monitor.performance.task, 'TASK_TYPE_') : 'none'],
        ['windows scored', monitor.windowsClosed ?? '0'],
        ['created', monitor.createTime],
      ]);
      ctx.output.line('');
      ctx.output.table(monitor.monitoredColumns ?? [], [
        { header: 'column', value: (column) => column.name },
        { header: 'kind', value: (column) => enumText(column.kind, 'COLUMN_KIND_') },
        { header: 'tensor', value: (column) => (column.tensor ? `${column.output ? 'output' : 'input'} ${column.tensor}[${column.index ?? 0}]` : '') },
        { header: 'detector', value: (column) => column.detector },
        { header: 'threshold', value: (column) => column.threshold },
      ]);
      ctx.output.line('');
      ctx.output.table(windows, [
        { header: 'window', value: (window) => window.number },
        { header: 'end', value: (window) => window.endTime },
        { header: 'rows', value: (window) => window.rows },
        { header: 'drifted', value: (window) => driftedColumns(window) },
        { header: 'dataset drift', value: (window) => (window.datasetDrift ? 'yes' : 'no') },
      ]);
    });

  monitors
    .command('windows <monitor>')
    .description("each scored window's verdict per column: detector, statistic, p-value or distance, threshold, drifted or not")
    .option('-c, --column <name>', 'one column only')
    .option('--last <n>', 'how many of the last windows to show', '20')
    .option('--since <age>', 'only windows closed in this last while (90s, 15m, 2h, 7d)')
    .option('--drifted', 'only the columns that drifted')
    .addHelpText('after', '\nExamples:\n  trellis monitors windows churn-drift --column f0\n  trellis monitors windows churn-drift --since 1d --drifted -o json')
    .action(async (ref: string, options: { column?: string; last: string; since?: string; drifted?: boolean }) => {
      const ctx = context();
      const count = parseCount(options.last, '--last', 1, 100_000);
      const since = options.since ? new Date(Date.now() - parseDuration(options.since, '--since') * 1000).toISOString() : undefined;
      const monitor = await findMonitor(ctx, ref);
      if (options.column && !(monitor.monitoredColumns ?? []).some((column) => column.name === options.column)) {
        const names = (monitor.monitoredColumns ?? []).map((column) => column.name).join(', ');
        throw new CliError(`monitor ${monitor.name} scores no column "${options.column.slice(0, 64)}"; it scores: ${names || 'none yet'}`, EXIT.invalidArgument);
      }
      const keep = (column: ColumnResultJson) => (!options.column || column.column === options.column) && (!options.drifted || Boolean(column.drifted));
      const windows = (await lastWindows(ctx.client(), monitor.id ?? '', count, since)).map((window) => ({ ...window, columns: (window.columns ?? []).filter(keep) }));
      const rows = windows.flatMap((window) => (window.columns ?? []).map((column) => ({ window, column })));
      ctx.output.table(
        rows,
        [
          { header: 'window', value: ({ window }) => window.number },
          { header: 'start', value: ({ window }) => window.startTime },
          { header: 'column', value: ({ column }) => column.column },
          { header: 'detector', value: ({ column }) => column.detector },
          { header: 'statistic', value: ({ column }) => round(column.statistic) },
          { header: 'value', value: ({ column }) => `${round(column.value)} (${column.pValue ? 'p-value' : 'distance'})` },
          { header: 'threshold', value: ({ column }) => column.threshold },
          { header: 'verdict', value: ({ column }) => verdictText(column) },
        ],
        windows,
      );
    });

  monitors
    .command('create <name>')
    .description('create a monitor of an endpoint (its reference found through lineage: the training dataset version) or of a dataset')
    .option('--endpoint <name>', "the endpoint whose logged predictions to watch (its prediction log share must be above 0)")
    .option('--dataset <name>', 'the dataset whose new versions to watch, one window per version')
    .option('--dataset-path <path>', "the tabular file scored in each of the dataset's versions (default: the only one)")
    .option('--reference <uri>', 'compare with this dataset version, datasets:/<name>/<version> (default: the training data found through lineage)')
    .option('--reference-path <path>', "the reference version's tabular file (default: the only profiled one)")
    .option('--reference-rows <n>', "compare with the endpoint's first n logged rows instead")
    .option('--window-rows <n>', 'rows in a count window (default: 1000)')
    .option('--window <duration>', 'a time window instead, by answer time (15m, 1h, 1d)')
    .option('--slide <n>', 'start a window every n rows (or seconds, 10m) for overlapping windows')
    .option('--columns <names>', 'columns to score, comma-separated (default: every input and output column the reference has)')
    .option('--tensor-columns <tensor=names>', "names of a 2-D tensor's columns in order, e.g. x=age,plan,income (repeatable)", collect, [])
    .option('--detector <column=detector[:threshold]>', "a column's drift detector instead of the default, e.g. age=psi:0.2 (repeatable)", collect, [])
    .option('--drift-share <share>', 'share of drifted columns that makes a window dataset drift (default: 0.5)')
    .addOption(new Option('--task <task>', 'compare predictions with labels posted later').choices(['classification', 'regression']))
    .option('--prediction-tensor <name>', 'the output holding the prediction (default: the first output)')
    .option('--positive-class <class>', 'the class whose precision, recall and F1 are reported (default: 1)')
    .option('--decision-threshold <score>', 'a score at or above it predicts the positive class (default: 0.5)')
    .option('-d, --description <text>', 'what the monitor is for')
    .addHelpText('after', '\nExamples:\n  trellis monitors create churn-drift --endpoint churn\n  trellis monitors create churn-hourly --endpoint churn --window 1h --detector age=psi:0.2 --task classification\n  trellis monitors create accounts-daily --dataset accounts --dataset-path daily.csv')
    .action(async (name: string, options: CreateMonitorOptions) => {
      const ctx = context();
      const request = createMonitorRequest(await ctx.projectId(), name, options);
      const { monitor = {} } = await ctx.client().call<CreateMonitorResponseJson>('trellis.monitoring.v1.MonitoringService/CreateMonitor', request);
      const state = monitor.state === 'MONITOR_STATE_PENDING' ? ` It is pending: ${monitor.stateMessage ?? ''}` : '';
      ctx.output.done(`Created monitor ${monitor.name} (${monitor.id}) of ${sourceText(monitor)}, reference ${monitor.reference?.origin ?? ''}.${state}`, monitor);
    });

  monitors
    .command('delete <monitor>')
    .description('delete a monitor with its windows, alert rules and alerts')
    .addHelpText('after', '\nExample:\n  trellis monitors delete churn-drift')
    .action(async (ref: string) => {
      const ctx = context();
      const monitor = await findMonitor(ctx, ref);
      await ctx.client().call('trellis.monitoring.v1.MonitoringService/DeleteMonitor', { monitorId: monitor.id });
      ctx.output.done(`Deleted monitor ${monitor.name} (${monitor.id}).`, { monitorId: monitor.id, name: monitor.name });
    });

  const alerts = program.command('alerts').description('alerts raised by monitors, and the rules that raise them');
  alerts
    .command('list')
    .description("the project's alerts, newest first")
    .option('--open', 'only alerts not resolved (pending or firing)')
    .addOption(new Option('--state <state>', 'only alerts in this state').choices([...ALERT_STATES]))
    .option('-m, --monitor <monitor>', "one monitor's alerts (id, name, or the endpoint it watches)")
    .option('--limit <n>', 'how many at most', '100')
    .addHelpText('after', '\nExamples:\n  trellis alerts list --open\n  trellis alerts list --monitor churn-drift --state resolved -o json')
    .action(async (options: { open?: boolean; state?: (typeof ALERT_STATES)[number]; monitor?: string; limit: string }) => {
      const ctx = context();
      if (options.open && options.state) throw new CliError('give --open or --state, not both', EXIT.usage);
      const limit = parseCount(options.limit, '--limit', 1, 100_000);
      const projectId = await ctx.projectId();
      const monitor = options.monitor ? await findMonitor(ctx, options.monitor) : undefined;
      const states: AlertStateJson[] = options.open ? ['ALERT_STATE_PENDING', 'ALERT_STATE_FIRING'] : options.state ? [`ALERT_STATE_${options.state.toUpperCase()}` as AlertStateJson] : [];
      const listed: AlertJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListAlertsResponseJson>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, monitorId: monitor?.id ?? '', states, pageSize: Math.min(limit - listed.length, 1000), pageToken });
        listed.push(...(page.alerts ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken && listed.length < limit);
      const names = monitor ? new Map([[monitor.id, monitor.name]]) : new Map((await listMonitors(ctx.client(), projectId)).map((known) => [known.id, known.name]));
      ctx.output.table(listed, [
        { header: 'state', value: (alert) => enumText(alert.state, 'ALERT_STATE_') },
        { header: 'severity', value: (alert) => enumText(alert.severity, 'ALERT_SEVERITY_') },
        { header: 'monitor', value: (alert) => names.get(alert.monitorId) ?? alert.monitorId },
        { header: 'rule', value: (alert) => alert.ruleName },
        { header: 'window', value: (alert) => alert.windowNumber },
        { header: 'since', value: (alert) => alert.pendingTime },
        { header: 'resolved', value: (alert) => alert.resolvedTime },
        { header: 'summary', value: (alert) => alert.summary },
      ]);
    });

  const rules = alerts.command('rules').description("a monitor's alert rules: when its windows raise an alert, and whom it notifies");
  rules
    .command('list [monitor]')
    .description("a monitor's rules (default: every monitor's in the project)")
    .addHelpText('after', '\nExample:\n  trellis alerts rules list churn-drift')
    .action(async (ref?: string) => {
      const ctx = context();
      const watched = ref ? [await findMonitor(ctx, ref)] : await listMonitors(ctx.client(), await ctx.projectId());
      const listed: Array<{ monitor: MonitorJson; rule: AlertRuleJson }> = [];
      for (const monitor of watched) {
        const { rules: found = [] } = await ctx.client().call<ListAlertRulesResponseJson>('trellis.monitoring.v1.AlertService/ListAlertRules', { monitorId: monitor.id });
        listed.push(...found.map((rule) => ({ monitor, rule })));
      }
      ctx.output.table(
        listed,
        [
          { header: 'id', value: ({ rule }) => rule.id },
          { header: 'monitor', value: ({ monitor }) => monitor.name },
          { header: 'name', value: ({ rule }) => rule.name },
          { header: 'condition', value: ({ rule }) => conditionText(rule) },
          { header: 'for', value: ({ rule }) => `${rule.forSeconds ?? 0}s` },
          { header: 'severity', value: ({ rule }) => enumText(rule.severity, 'ALERT_SEVERITY_') },
          { header: 'notifiers', value: ({ rule }) => (rule.notifiers ?? []).join(', ') },
        ],
        listed.map(({ rule }) => rule),
      );
    });

  rules
    .command('create <monitor> <name>')
    .description('add a rule to a monitor: one condition, how long it must hold, its severity, and the notifiers it tells')
    .option('--drift-share <share>', "alert while a window's share of drifted columns is at least this")
    .option('--column <name>', "alert on this column's drift score (with --above or --below), or its missing rate (with --missing-rate)")
    .option('--above <value>', 'alert while the distance (or the metric: mae, rmse) is above this')
    .option('--below <value>', 'alert while the p-value (or the metric: accuracy, precision, recall, f1) is below this')
    .addOption(new Option('--metric <name>', 'alert on a performance metric (the monitor needs --task)').choices(Object.keys(METRICS)))
    .option('--min-labeled-rows <n>', 'windows with fewer labels do not count (with --metric)')
    .option('--missing-rate <rate>', "alert while a column's (or any column's) share of missing values is above this")
    .option('--for <duration>', 'how long the condition must hold before the alert fires (0, 10m, 1h; default: 0, at once)')
    .addOption(new Option('--severity <severity>', 'how urgent its alerts are').choices([...SEVERITIES]).default('warning'))
    .option('--notifier <name>', 'a notifier instance told when the alert fires and resolves (repeatable; `trellis alerts notifiers`)', collect, [])
    .addHelpText(
      'after',
      '\nExamples:\n  trellis alerts rules create churn-drift dataset-drift --drift-share 0.5 --severity critical --notifier oncall\n  trellis alerts rules create churn-drift tenure --column tenure --below 0.01 --for 1h\n  trellis alerts rules create churn-drift accuracy --metric accuracy --below 0.8 --min-labeled-rows 100',
    )
    .action(async (ref: string, name: string, options: AlertRuleOptions) => {
      const ctx = context();
      const monitor = await findMonitor(ctx, ref);
      const { rule = {} } = await ctx.client().call<CreateAlertRuleResponseJson>('trellis.monitoring.v1.AlertService/CreateAlertRule', { rule: alertRuleRequest(monitor.id ?? '', name, options) });
      ctx.output.done(`Created rule ${rule.name} (${rule.id}) on monitor ${monitor.name}: ${conditionText(rule)}.`, rule);
    });

  rules
    .command('delete <rule-id>')
    .description('delete a rule (its open alert is resolved); `trellis alerts rules list` shows the ids')
    .addHelpText('after', '\nExample:\n  trellis alerts rules delete 5762c4cf-bacf-4abd-b229-3b18448e4dbf')
    .action(async (ruleId: string) => {
      const ctx = context();
      await ctx.client().call('trellis.monitoring.v1.AlertService/DeleteAlertRule', { ruleId });
      ctx.output.done(`Deleted rule ${ruleId}.`, { ruleId });
    });

  alerts
    .command('notifiers')
    .description("the monitoring service's notifier instances, which rules name with --notifier (an org admin adds them: docs/monitoring.md, Webhooks)")
    .addHelpText('after', '\nExample:\n  trellis alerts notifiers -o json')
    .action(async () => {
      const ctx = context();
      const { instances = [] } = await ctx.client().call<ListPluginInstancesResponseJson>('trellis.plugins.v1.PluginInstanceService/ListPluginInstances', { service: 'monitoring', kind: 'PLUGIN_KIND_NOTIFIER', pageSize: 1000 });
      ctx.output.table(instances, [
        { header: 'name', value: (instance) => instance.name },
        { header: 'plugin', value: (instance) => instance.plugin },
        { header: 'source', value: (instance) => enumText(instance.source, 'PLUGIN_INSTANCE_SOURCE_') },
      ]);
    });
};

/** `f0, f3` (the columns that drifted), or `none`. */
function driftedColumns(window: WindowResultJson): string {
  const drifted = (window.columns ?? []).filter((column) => column.drifted).map((column) => column.column);
  return drifted.length ? `${drifted.length}: ${drifted.join(', ')}` : 'none';
}

/** A score with 4 significant digits for a table (JSON keeps every digit; protobuf JSON writes NaN and infinities as strings). */
function round(value: number | string | undefined): string {
  const number = Number(value ?? 0);
  return Number.isFinite(number) ? Number(number.toPrecision(4)).toString() : String(value);
}
