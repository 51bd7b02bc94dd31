import { create, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { type EventSubscription, type GrpcCallError, type GrpcClient, Outbox, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import driftStats from '@trellis/plugin-drift-stats';
import notifierWebhook, { verifySignature } from '@trellis/plugin-notifier-webhook';
import { AlertEventSchema, AlertServiceDesc, MonitorDeletedEventSchema, AlertSeverity, AlertState, PerformanceMetric, type AlertRuleSchema } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitoringService } from '../monitoring.definition';
import { monitoringEvents } from '../monitoring.events';
import { MonitorEntity } from '../monitors/monitor.entity';
import type { ColumnVerdict, ScoredWindow } from '../windows/scored-window';
import { AlertEvaluator } from './alert-evaluator';
import { AlertRepository } from './alert.repository';

type Client = GrpcClient<(typeof AlertServiceDesc)['method']>;

const SECRET = 'alerts-spec-secret-0123456789';
const SECRET_VARIABLE = 'TRELLIS_ALERTS_SPEC_WEBHOOK_SECRET';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;

/** What the receiver accepted: the webhook's JSON body, its delivery header, and which path it came to. */
interface Received {
  path: string;
  delivery: string;
  body: { id: string; status: string; severity: string; title: string; labels: Record<string, string>; at: string };
}

/**
 * A webhook receiver as the plugin's README writes one: it checks each signature on the raw body
 * with verifySignature and refuses a bad one (401). `/flaky` refuses each alert's first try (400).
 */
async function startReceiver(): Promise<{ url: string; accepted: Received[]; refused: string[]; server: Server }> {
  const accepted: Received[] = [];
  const refused: string[] = [];
  const triedFlaky = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const check = verifySignature(SECRET, request.headers['trellis-signature'] as string | undefined, body);
      if (!check.valid) {
        refused.push(check.message);
        return void response.writeHead(401).end(check.message);
      }
      const delivery = request.headers['trellis-delivery'] as string;
      if (request.url === '/flaky' && !triedFlaky.has(delivery)) {
        triedFlaky.add(delivery);
        return void response.writeHead(400).end('not yet');
      }
      accepted.push({ path: request.url ?? '', delivery, body: JSON.parse(body.toString('utf8')) as Received['body'] });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accepted, refused, server };
}

const verdict = (column: string, value: number, fields: Partial<ColumnVerdict> = {}): ColumnVerdict => ({
  column,
  detector: 'ks',
  pValue: true,
  statistic: 0.2,
  value,
  threshold: 0.05,
  drifted: value < 0.05,
  rows: 100,
  missingRate: 0,
  error: '',
  ...fields,
});

describe.each(serviceDatabases('monitoring'))('alerts (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let editor: Client;
  let viewer: Client;
  let outsider: Client;
  let configDir: string;
  const events: Array<{ subject: string; alertId: string; state: AlertState }> = [];

  /** A monitor of endpoint churn in project p1 that scores tenure and plan and measures classification performance. */
  const addMonitor = async (name: string): Promise<MonitorEntity> => {
    const monitor: MonitorEntity = {
      id: `00000000-0000-4000-8000-${String(Math.abs(hash(name + _database))).padStart(12, '0').slice(0, 12)}`,
      projectId: 'p1',
      name,
      description: '',
      creatorId: 'erin',
      createdAt: 1,
      updatedAt: 1,
      endpointName: 'churn',
      reference: { kind: 'log_window', rows: 100, origin: 'given' },
      windowRows: 100,
      windowSeconds: 0,
      windowSlide: 100,
      requestedColumns: [],
      tensorColumns: [],
      detectors: [],
      driftShare: 0.5,
      performance: { task: 'classification', predictionTensor: 'label', positiveClass: '1', decisionThreshold: 0.5 },
      state: 'active',
      stateMessage: '',
      monitoredColumns: [
        { name: 'tenure', kind: 'numeric', output: false, tensor: 'x', index: 0, detector: 'ks', threshold: 0.05 },
        { name: 'plan', kind: 'categorical', output: false, tensor: 'x', index: 1, detector: 'chi-square', threshold: 0.05 },
      ],
      windowsClosed: 0,
    };
    await service.dataSource.transaction((tx) => tx.insert(MonitorEntity, monitor));
    return monitor;
  };

  /** Judges a window of `monitor` closed at `closedAtSeconds`, as the windows feature does in the transaction that stores it. */
  const closeWindow = (monitor: MonitorEntity, number: number, closedAtSeconds: number, driftShare: number, columns: ColumnVerdict[] = []) => {
    const window: ScoredWindow = {
      monitorId: monitor.id,
      projectId: monitor.projectId,
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      number,
      startMs: 0,
      endMs: closedAtSeconds * 1000,
      closedAtMs: closedAtSeconds * 1000,
      rows: 100,
      firstSeq: (number - 1) * 100 + 1,
      lastSeq: number * 100,
      columns,
      driftedColumns: columns.filter(({ drifted }) => drifted).length,
      driftShare,
      datasetDrift: driftShare >= 0.5,
      revisionIds: [],
    };
    return service.dataSource.transaction((tx) => service.app.get(AlertEvaluator).judgeWindow(tx, monitor, window));
  };

  const rule = (fields: MessageInitShape<typeof AlertRuleSchema>) => ({ rule: { forSeconds: 0n, notifiers: [], ...fields } });

  beforeAll(async () => {
    database = await databaseFor();
    receiver = await startReceiver();
    configDir = mkdtempSync(join(tmpdir(), 'alerts-spec-'));
    const webhook = (path: string) => ({ plugin: 'notifier-webhook', config: { url: `${receiver.url}${path}`, secret: `env:${SECRET_VARIABLE}`, maxAttempts: 1, backoff: { jitter: 0 } } });
    writeFileSync(join(configDir, 'trellis.yaml'), JSON.stringify({ notifier: { 'on-call': webhook('/hook'), flaky: webhook('/flaky') } }));
    process.env[SECRET_VARIABLE] = SECRET;
    platform = await TestPlatform.start(
      { ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml'), TRELLIS_MONITORING_ALERT_DELIVERY_BACKOFF_MS: '1' },
      { plugins: [driftStats, notifierWebhook] },
    );
    subscription = await platform.runtime.bus.subscribe({
      durable: 'alerts-spec',
      subject: 'trellis.monitoring.v1.alert.*',
      handler: async (envelope) => {
        const alert = fromBinary(AlertEventSchema, envelope.payload).alert;
        events.push({ subject: envelope.subject, alertId: alert?.id ?? '', state: alert?.state ?? AlertState.UNSPECIFIED });
      },
    });
    service = await platform.startService(monitoringService);
    editor = await platform.client(AlertServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    viewer = await platform.client(AlertServiceDesc, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });
    outsider = await platform.client(AlertServiceDesc, service.grpcAddress, { sub: 'oscar', bindings: [{ project: 'p2', role: 'owner' }] });
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
    await database?.cleanup();
    await new Promise((resolve) => receiver?.server.close(resolve));
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('raises a drift alert PENDING, fires it once the condition held for for_seconds, resolves it, and tells the webhook and the event stream', async () => {
    const monitor = await addMonitor('churn-drift');
    const created = (
      await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'churn-drift', condition: { case: 'driftShare', value: { atLeast: 0.5 } }, forSeconds: 600n, severity: AlertSeverity.CRITICAL, notifiers: ['on-call'] }))
    ).rule!;
    expect(created).toMatchObject({ monitorId: monitor.id, name: 'churn-drift', forSeconds: 600n, severity: AlertSeverity.CRITICAL, notifiers: ['on-call'] });
    const alertsOf = async () => (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts;

    await closeWindow(monitor, 1, 1000, 0.2);
    expect(await alertsOf()).toEqual([]);
    await closeWindow(monitor, 2, 1300, 2 / 3);
    expect(await alertsOf()).toMatchObject([{ ruleName: 'churn-drift', state: AlertState.PENDING, pendingTime: { seconds: 1300n }, windowNumber: 2n, summary: 'dataset drift 0.67 >= 0.5' }]);
    await closeWindow(monitor, 3, 1600, 0.7);
    expect((await alertsOf())[0]).toMatchObject({ state: AlertState.PENDING, windowNumber: 3n });
    await closeWindow(monitor, 4, 1900, 2 / 3);
    const [fired] = await alertsOf();
    expect(fired).toMatchObject({ state: AlertState.FIRING, pendingTime: { seconds: 1300n }, firingTime: { seconds: 1900n }, severity: AlertSeverity.CRITICAL });
    await closeWindow(monitor, 5, 2200, 0);
    expect(await alertsOf()).toMatchObject([{ id: fired.id, state: AlertState.RESOLVED, resolvedTime: { seconds: 2200n }, value: 0 }]);

    await eventually(() =>
      expect(events.filter(({ alertId }) => alertId === fired.id)).toEqual([
        { subject: 'trellis.monitoring.v1.alert.firing', alertId: fired.id, state: AlertState.FIRING },
        { subject: 'trellis.monitoring.v1.alert.resolved', alertId: fired.id, state: AlertState.RESOLVED },
      ]),
    );
    await eventually(() => expect(receiver.accepted.filter(({ body }) => body.id.startsWith(fired.id)).map(({ body }) => body.status)).toEqual(['firing', 'resolved']));
    const [firing, resolved] = receiver.accepted.filter(({ body }) => body.id.startsWith(fired.id));
    expect(firing).toEqual({
      path: '/hook',
      delivery: `${fired.id}:firing`,
      body: expect.objectContaining({
        id: `${fired.id}:firing`,
        status: 'firing',
        severity: 'critical',
        title: 'churn-drift: dataset drift 0.67 >= 0.5 on endpoint churn',
        labels: { project: 'p1', monitor: 'churn-drift', endpoint: 'churn', rule: 'churn-drift' },
        at: new Date(1_300_000).toISOString(),
      }),
    });
    expect(resolved.body).toMatchObject({ id: `${fired.id}:resolved`, title: 'churn-drift resolved: dataset drift 0 < 0.5 on endpoint churn', at: new Date(2_200_000).toISOString() });
    expect(receiver.refused).toEqual([]);
  });

  it('resolves a pending alert silently: no event, no delivery', async () => {
    const monitor = await addMonitor('quiet');
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'slow', condition: { case: 'driftShare', value: { atLeast: 0.5 } }, forSeconds: 3600n, notifiers: ['on-call'] }));
    await closeWindow(monitor, 1, 100, 1);
    await closeWindow(monitor, 2, 200, 0);
    const [alert] = (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts;
    expect(alert).toMatchObject({ state: AlertState.RESOLVED, severity: AlertSeverity.WARNING, resolvedTime: { seconds: 200n } });
    expect(alert.firingTime).toBeUndefined();
    expect(await service.app.get(AlertRepository).deliveriesOf(alert.id)).toEqual([]);
    // Events go out in the order they committed: once a later alert's has arrived, none of this one's is on its way.
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'fast', condition: { case: 'driftShare', value: { atLeast: 0.5 } } }));
    await closeWindow(monitor, 3, 300, 1);
    const fast = (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id, states: [AlertState.FIRING] })).alerts[0];
    await eventually(() => expect(events.map(({ alertId }) => alertId)).toContain(fast.id));
    expect(events.filter(({ alertId }) => alertId === alert.id)).toEqual([]);
  });

  it('tries a refused delivery again until the notifier accepts it, keeping the error meanwhile', async () => {
    const monitor = await addMonitor('plan-shift');
    await editor.createAlertRule(
      rule({ monitorId: monitor.id, name: 'plan-p', condition: { case: 'columnDistance', value: { column: 'plan', below: 0.05 } }, notifiers: ['flaky'] }),
    );
    await closeWindow(monitor, 1, 100, 0.5, [verdict('tenure', 0.5), verdict('plan', 0.001)]);
    const [alert] = (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts;
    expect(alert).toMatchObject({ state: AlertState.FIRING, summary: 'plan p-value 0.001 < 0.05' });
    await eventually(async () => expect(await service.app.get(AlertRepository).deliveriesOf(alert.id)).toMatchObject([{ notifier: 'flaky', status: 'delivered', attempts: 2, lastError: '' }]));
    expect(receiver.accepted.filter(({ delivery }) => delivery === `${alert.id}:firing`)).toMatchObject([{ path: '/flaky' }]);
  });

  it('resolves and announces the firing alert of a rule that is deleted', async () => {
    const monitor = await addMonitor('deleted-rule');
    const created = (await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'missing', condition: { case: 'missingRate', value: { above: 0.1 } }, notifiers: ['on-call'] }))).rule!;
    await closeWindow(monitor, 1, 100, 0, [verdict('tenure', 0.5, { missingRate: 0.3 })]);
    const [alert] = (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id, states: [AlertState.FIRING] })).alerts;
    expect(alert.summary).toBe('tenure missing rate 0.3 > 0.1');

    expect((await failure(viewer.deleteAlertRule({ ruleId: created.id })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.deleteAlertRule({ ruleId: created.id })))?.reason).toBe('ALERT_RULE_NOT_FOUND');
    await editor.deleteAlertRule({ ruleId: created.id });
    expect((await viewer.listAlertRules({ monitorId: monitor.id })).rules).toEqual([]);
    expect((await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts).toMatchObject([{ id: alert.id, state: AlertState.RESOLVED }]);
    await eventually(() => expect(receiver.accepted.filter(({ body }) => body.id.startsWith(alert.id)).map(({ body }) => body.status)).toEqual(['firing', 'resolved']));
    expect((await failure(editor.deleteAlertRule({ ruleId: created.id })))?.reason).toBe('ALERT_RULE_NOT_FOUND');
  });

  it('judges performance rules by performance only, once enough rows are labelled', async () => {
    const monitor = await addMonitor('accuracy');
    await editor.createAlertRule(
      rule({ monitorId: monitor.id, name: 'accuracy', condition: { case: 'performance', value: { metric: PerformanceMetric.ACCURACY, below: 0.8, minLabeledRows: 10n } } }),
    );
    await closeWindow(monitor, 1, 100, 1);
    const judge = (labeledRows: number, accuracy: number) =>
      service.dataSource.transaction((tx) =>
        service.app.get(AlertEvaluator).judgePerformance(tx, monitor, { number: 1, closedAtMs: 100_000 }, { labeledRows, accuracy, precision: 0, recall: 0, f1: 0, mae: 0, rmse: 0 }),
      );
    await judge(5, 0.1);
    expect((await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts).toEqual([]);
    await judge(20, 0.6);
    expect((await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts).toMatchObject([{ state: AlertState.FIRING, value: 0.6, summary: 'accuracy 0.6 < 0.8 over 20 labeled rows' }]);
  });

  it('refuses a rule without a condition, with a bound out of range, on a column or notifier that does not exist, or by a viewer', async () => {
    const monitor = await addMonitor('checks');
    const drift = { case: 'driftShare' as const, value: { atLeast: 0.5 } };
    const noCondition = await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x' })));
    expect([noCondition?.code, noCondition?.violations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'rule.condition']);
    const share = await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: { case: 'driftShare', value: { atLeast: 1.5 } } })));
    expect([share?.code, share?.violations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'rule.drift_share.at_least']);
    const forever = await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift, forSeconds: 2_592_001n })));
    expect([forever?.code, forever?.violations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'rule.for_seconds']);
    const column = await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: { case: 'columnDistance', value: { column: 'age', above: 0.2 } } })));
    expect([column?.code, column?.reason]).toEqual([status.FAILED_PRECONDITION, 'COLUMN_NOT_MONITORED']);
    const notifier = await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift, notifiers: ['pager'] })));
    expect([notifier?.code, notifier?.reason]).toEqual([status.FAILED_PRECONDITION, 'NOTIFIER_NOT_FOUND']);
    expect(notifier?.details).toContain('there are');
    const regression = await failure(
      editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: { case: 'performance', value: { metric: PerformanceMetric.RMSE, above: 1 } } })),
    );
    expect([regression?.code, regression?.violations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'rule.performance.metric']);
    expect((await failure(viewer.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift }))))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift }))))?.reason).toBe('MONITOR_NOT_FOUND');
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift }));
    expect((await failure(editor.createAlertRule(rule({ monitorId: monitor.id, name: 'x', condition: drift }))))?.reason).toBe('ALERT_RULE_NAME_TAKEN');

    await service.dataSource.transaction((tx) => tx.update(MonitorEntity, { id: monitor.id }, { performance: null, state: 'pending', monitoredColumns: [] }));
    const noPerformance = await failure(
      editor.createAlertRule(rule({ monitorId: monitor.id, name: 'y', condition: { case: 'performance', value: { metric: PerformanceMetric.ACCURACY, below: 0.9 } } })),
    );
    expect(noPerformance?.reason).toBe('NO_PERFORMANCE');
    // A pending monitor has no columns yet: a rule on any column waits for them.
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'later', condition: { case: 'columnDistance', value: { column: 'age', above: 0.2 } } }));
    expect((await viewer.listAlertRules({ monitorId: monitor.id })).rules.map(({ name }) => name)).toEqual(['later', 'x']);
  });

  it('pages through a project\'s alerts newest first, and refuses a token of another listing', async () => {
    const monitor = await addMonitor('paging');
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'any', condition: { case: 'driftShare', value: { atLeast: 0.5 } } }));
    for (let n = 1; n <= 3; n++) {
      await closeWindow(monitor, 2 * n - 1, 1000 * n, 1);
      await closeWindow(monitor, 2 * n, 1000 * n + 500, 0);
    }
    const pages: number[][] = [];
    let pageToken = '';
    do {
      const page = await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id, pageSize: 2, pageToken });
      pages.push(page.alerts.map(({ pendingTime }) => Number(pendingTime?.seconds)));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(pages).toEqual([[3000, 2000], [1000]]);
    const first = await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id, pageSize: 1 });
    expect((await failure(viewer.listAlerts({ projectId: 'p1', pageSize: 1, pageToken: first.nextPageToken })))?.code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(outsider.listAlerts({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('counts open alerts by state and deliveries by outcome on /metrics', async () => {
    const firing = (await viewer.listAlerts({ projectId: 'p1', states: [AlertState.FIRING], pageSize: 1000 })).alerts.length;
    const pending = (await viewer.listAlerts({ projectId: 'p1', states: [AlertState.PENDING], pageSize: 1000 })).alerts.length;
    const metrics = await (await fetch(`${platform.opsAddress}/metrics`)).text();
    const sample = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(firing).toBeGreaterThan(0);
    expect({ firing: sample('trellis_monitoring_alerts{state="firing"}'), pending: sample('trellis_monitoring_alerts{state="pending"}') }).toEqual({ firing, pending });
    expect(sample('trellis_monitoring_alert_deliveries_total{outcome="retried"}')).toBeGreaterThanOrEqual(1);
    expect(sample('trellis_monitoring_alert_deliveries_total{outcome="delivered"}')).toBeGreaterThanOrEqual(5);
  });

  it("forgets a deleted monitor's rules, alerts and deliveries", async () => {
    const monitor = await addMonitor('gone');
    await editor.createAlertRule(rule({ monitorId: monitor.id, name: 'drift', condition: { case: 'driftShare', value: { atLeast: 0.5 } }, notifiers: ['on-call'] }));
    await closeWindow(monitor, 1, 100, 1);
    const [alert] = (await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts;
    await eventually(() => expect(receiver.accepted.map(({ delivery }) => delivery)).toContain(`${alert.id}:firing`));
    await service.dataSource.transaction(async (tx) => {
      await tx.delete(MonitorEntity, { id: monitor.id });
      await service.app.get(Outbox).publish(tx, monitoringEvents, {
        subject: 'trellis.monitoring.v1.monitor.deleted',
        message: create(MonitorDeletedEventSchema, { monitor: { id: monitor.id, projectId: 'p1', name: monitor.name } }),
        projectId: 'p1',
      });
    });
    await eventually(async () => expect((await viewer.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts).toEqual([]));
    expect(await service.app.get(AlertRepository).rules(monitor.id)).toEqual([]);
    expect(await service.app.get(AlertRepository).deliveriesOf(alert.id)).toEqual([]);
  });
});

/** A small deterministic hash of a name, for monitor ids that differ per test and database. */
function hash(text: string): number {
  let value = 7;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) | 0;
  return value;
}
