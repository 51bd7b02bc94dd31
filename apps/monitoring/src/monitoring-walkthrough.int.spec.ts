import { eventually } from '@trellis/testing';
import { CHURN_FEATURES, churnRows, deployChurn, startMonitoringPlatform, type ChurnDeployment, type MonitoringPlatform } from '../test/monitoring-platform';
import { startWebhookReceiver, type WebhookReceiver } from '../test/webhook-receiver';

const ADMIN_KEY = `trellis_00000000000000e8_${'W'.repeat(43)}`;
const WEBHOOK_SECRET = 'walkthrough-webhook-secret-0123456789';
const SECRET_VARIABLE = 'TRELLIS_WALKTHROUGH_WEBHOOK_SECRET';
/** Rows per window: small, so the spec is quick, and large enough for KS to tell a shift from noise. */
const WINDOW_ROWS = 200;
/** Rows per inference request: a window is four batched requests. */
const BATCH_ROWS = 50;
/** How far the shifted traffic moves every feature: two standard deviations of a churn feature (0.5). */
const SHIFT = 1;

/** The parts of the gateway's JSON Monitor the spec reads (protobuf JSON: int64 as strings, enums by name). */
interface JsonMonitor {
  id: string;
  state: string;
  stateMessage?: string;
  reference: { origin: string; datasetVersion?: { datasetUri: string } };
  window: { rows: string };
  driftShare: number;
  performance?: { task: string };
  monitoredColumns: Array<{ name: string; tensor: string; index?: number; detector: string; threshold: number }>;
}

interface JsonWindow {
  number: string;
  rows: string;
  driftedColumns?: number;
  driftShare?: number;
  datasetDrift?: boolean;
  columns: Array<{ column: string; drifted?: boolean }>;
  performance?: { labeledRows?: string; accuracy?: number; precision?: number; recall?: number; f1?: number };
}

interface JsonAlert {
  id: string;
  ruleName: string;
  state: string;
  severity: string;
  windowNumber: string;
  value?: number;
  summary: string;
}

/** One row the endpoint answered: the request id its answer carried, its row in that batch, and the class it predicted (argmax of y). */
interface Answered {
  requestId: string;
  row: number;
  predicted: string;
}

/** Precision, recall and F1 of class "1" (0 where undefined, as PerformanceResult reports them), of predictions against the truth. */
function expectedPerformance(rows: ReadonlyArray<{ predicted: string; truth: string }>) {
  const truePositives = rows.filter(({ predicted, truth }) => predicted === '1' && truth === '1').length;
  const predictedPositives = rows.filter(({ predicted }) => predicted === '1').length;
  const labeledPositives = rows.filter(({ truth }) => truth === '1').length;
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    precision: ratio(truePositives, predictedPositives),
    recall: ratio(truePositives, labeledPositives),
    f1: ratio(2 * truePositives, predictedPositives + labeledPositives),
  };
}

/**
 * Issue 17 done: an endpoint serving a model trained on a dataset version gets a monitor with
 * defaults in one call; shifting the distribution of its traffic raises a drift alert within one
 * window and the signed webhook reaches a receiver; posting labels shows accuracy per window. All
 * of it through the gateway over HTTP with the admin key, as a user does it.
 */
describe('issue 17 done: an endpoint monitored in one call, a traffic shift alerting a webhook within a window, accuracy per window from posted labels', () => {
  let platform: MonitoringPlatform;
  let churn: ChurnDeployment;
  let receiver: WebhookReceiver;
  let monitor: JsonMonitor;
  /** The rows of each window as the endpoint answered them, window 1 first. */
  const answered: Answered[][] = [];

  const windowsOf = async () =>
    (await platform.call<{ windows?: JsonWindow[] }>('trellis.monitoring.v1.MonitoringService/ListWindowResults', { monitorId: monitor.id })).windows ?? [];
  /** Polls ListWindowResults until window `number` is there. */
  const closedWindow = (number: number) =>
    eventually(
      async () => {
        const window = (await windowsOf()).find((listed) => listed.number === String(number));
        if (!window) throw new Error(`window ${number} has not closed`);
        return window;
      },
      { timeoutMs: 60_000 },
    );

  /** Sends one window of churn rows to the endpoint's OIP REST route in batched requests; resolves with each answered row. */
  const sendWindow = async (seed: number, shift: number): Promise<Answered[]> => {
    const rows = churnRows(WINDOW_ROWS, seed, shift);
    const out: Answered[] = [];
    for (let start = 0; start < rows.length; start += BATCH_ROWS) {
      const batch = rows.slice(start, start + BATCH_ROWS);
      const response = await platform.http(`/v2/models/${churn.endpointName}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [batch.length, CHURN_FEATURES], data: batch.flat() }] }),
      });
      const text = await response.text();
      expect({ status: response.status, text }).toMatchObject({ status: 200 });
      const answer = JSON.parse(text) as { id: string; outputs: Array<{ name: string; shape: number[]; data: number[] }> };
      const y = answer.outputs.find((output) => output.name === 'y')!;
      expect(y.shape).toEqual([batch.length, 2]);
      batch.forEach((_, row) => out.push({ requestId: answer.id, row, predicted: y.data[row * 2 + 1] > y.data[row * 2] ? '1' : '0' }));
    }
    return out;
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    platform = await startMonitoringPlatform('walkthrough', ADMIN_KEY, { [SECRET_VARIABLE]: WEBHOOK_SECRET });
    churn = await deployChurn(platform, { rows: 400 });
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('creates the monitor in one call: ACTIVE on the training dataset version found through lineage, with the default detectors', async () => {
    await platform.call('trellis.plugins.v1.PluginInstanceService/CreatePluginInstance', {
      service: 'monitoring',
      kind: 'PLUGIN_KIND_NOTIFIER',
      name: 'oncall',
      plugin: 'notifier-webhook',
      config: { url: receiver.url, secret: `env:${SECRET_VARIABLE}`, maxAttempts: 2, backoff: { initialMs: 100, jitter: 0 } },
    });

    ({ monitor } = await platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/CreateMonitor', {
      projectId: churn.projectId,
      name: 'churn-watch',
      endpoint: { endpointName: churn.endpointName },
      window: { rows: String(WINDOW_ROWS) },
      performance: { task: 'TASK_TYPE_CLASSIFICATION' },
    }));

    expect(monitor).toMatchObject({
      state: 'MONITOR_STATE_ACTIVE',
      reference: { origin: `lineage: models:/churn/1, run ${churn.runId}, training input ${churn.datasetUri}`, datasetVersion: { datasetUri: churn.datasetUri } },
      window: { rows: String(WINDOW_ROWS) },
      driftShare: 0.5,
      performance: { task: 'TASK_TYPE_CLASSIFICATION' },
    });
    // 400 numeric reference rows: the default policy's ks for each of the model's ten input features.
    expect(monitor.monitoredColumns.map(({ name, tensor, index, detector, threshold }) => ({ name, tensor, index: index ?? 0, detector, threshold }))).toEqual(
      Array.from({ length: CHURN_FEATURES }, (_, i) => ({ name: `f${i}`, tensor: 'x', index: i, detector: 'ks', threshold: 0.05 })),
    );
  });

  it('takes an alert rule on dataset drift that notifies the webhook instance', async () => {
    const { rule } = await platform.call<{ rule: { id: string; name: string; notifiers: string[]; forSeconds?: string } }>('trellis.monitoring.v1.AlertService/CreateAlertRule', {
      rule: { monitorId: monitor.id, name: 'churn-drift', driftShare: { atLeast: 0.5 }, forSeconds: '0', severity: 'ALERT_SEVERITY_CRITICAL', notifiers: ['oncall'] },
    });
    expect(rule).toMatchObject({ name: 'churn-drift', notifiers: ['oncall'] });
  });

  it('scores a window of traffic like the training data without dataset drift, and raises nothing', async () => {
    answered.push(await sendWindow(101, 0));

    const window = await closedWindow(1);
    expect(window).toMatchObject({ rows: String(WINDOW_ROWS) });
    expect(window.columns.map(({ column }) => column)).toEqual(Array.from({ length: CHURN_FEATURES }, (_, i) => `f${i}`));
    expect(window.datasetDrift ?? false).toBe(false);
    expect(window.driftShare ?? 0).toBeLessThan(0.5);
    const { alerts } = await platform.call<{ alerts?: JsonAlert[] }>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId: churn.projectId, monitorId: monitor.id });
    expect(alerts ?? []).toEqual([]);
  });

  it('flags the next window of shifted traffic as dataset drift, fires the alert, and the signed webhook reaches the receiver', async () => {
    answered.push(await sendWindow(202, SHIFT));

    const window = await closedWindow(2);
    expect(window).toMatchObject({ rows: String(WINDOW_ROWS), datasetDrift: true });
    expect(window.driftShare).toBeGreaterThanOrEqual(0.5);
    // Prometheus shows the last window of the monitor as ListWindowResults does.
    const metrics = await (await fetch(`${platform.process.opsAddress}/metrics`)).text();
    const series = (name: string) => new RegExp(`^${name}\\{[^}]*monitor="churn-watch"[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1];
    expect({ datasetDrift: series('trellis_monitoring_dataset_drift'), driftShare: Number(series('trellis_monitoring_drift_share')) }).toEqual({
      datasetDrift: '1',
      driftShare: window.driftShare,
    });

    const { alerts } = await platform.call<{ alerts: JsonAlert[] }>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId: churn.projectId, monitorId: monitor.id });
    expect(alerts).toEqual([
      expect.objectContaining({ ruleName: 'churn-drift', state: 'ALERT_STATE_FIRING', severity: 'ALERT_SEVERITY_CRITICAL', windowNumber: '2', value: window.driftShare }),
    ]);
    const [alert] = alerts;

    const [delivered] = await eventually(
      () => {
        if (receiver.accepted.length === 0) throw new Error('the receiver has no verified alert yet');
        return receiver.accepted;
      },
      { timeoutMs: 30_000 },
    );
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.refused).toEqual([]);
    expect(delivered.delivery).toBe(delivered.body.id);
    expect(delivered.body).toMatchObject({
      id: expect.stringContaining(alert.id),
      status: 'firing',
      severity: 'critical',
      title: expect.stringContaining('dataset drift'),
      labels: { project: churn.projectId, monitor: 'churn-watch', endpoint: churn.endpointName, rule: 'churn-drift' },
    });
  });

  it("shows each window's accuracy once labels are posted for its requests", async () => {
    const flip = (predicted: string) => (predicted === '1' ? '0' : '1');
    // Window 1: the truth is the predicted class for its first half and the other class after; window 2: for its first three quarters.
    const truthOf = [(index: number, predicted: string) => (index < WINDOW_ROWS / 2 ? predicted : flip(predicted)), (index: number, predicted: string) => (index < (WINDOW_ROWS * 3) / 4 ? predicted : flip(predicted))];
    const labeled = answered.map((rows, window) => rows.map((row, index) => ({ ...row, truth: truthOf[window](index, row.predicted) })));

    const posted = await platform.call<{ accepted?: number; matched?: number }>('trellis.monitoring.v1.MonitoringService/PostLabels', {
      projectId: churn.projectId,
      endpointName: churn.endpointName,
      labels: labeled.flat().map(({ requestId, row, truth }) => ({ requestId, row, category: truth })),
    });
    expect(posted).toEqual({ accepted: 2 * WINDOW_ROWS, matched: 2 * WINDOW_ROWS });

    const windows = await eventually(
      async () => {
        const listed = await windowsOf();
        if (listed.some((window) => window.performance?.labeledRows !== String(WINDOW_ROWS))) throw new Error('a window has no performance over all its rows yet');
        return listed;
      },
      { timeoutMs: 30_000 },
    );
    expect(windows.map(({ number }) => number)).toEqual(['1', '2']);
    windows.forEach((window, i) => {
      const expected = expectedPerformance(labeled[i]);
      expect(window.performance?.accuracy).toBeCloseTo(i === 0 ? 0.5 : 0.75, 10);
      expect(window.performance?.precision ?? 0).toBeCloseTo(expected.precision, 10);
      expect(window.performance?.recall ?? 0).toBeCloseTo(expected.recall, 10);
      expect(window.performance?.f1 ?? 0).toBeCloseTo(expected.f1, 10);
    });
  });
});
