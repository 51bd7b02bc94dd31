import { CHURN_FEATURES, churnModel } from '@trellis/plugin-runtime-onnx/testing';
import { eventually, platformClient, seededUniforms, seedProject } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Rows of the training CSV: the monitor's reference (at most 1,000 rows: the default policy's ks per column). */
const TRAINING_ROWS = 200;
/** Rows of a count window: few, so a window closes after one request, and enough for KS to see a large shift. */
export const WINDOW_ROWS = 50;
/** The column whose traffic moves in the second window; the other nine stay as trained. */
export const DRIFTING_COLUMN = 'f0';
/** How far the drifting column moves: six standard deviations of a feature (0.5). */
const SHIFT = 3;
/** Outcomes a worker brings (a copy, a model load, a profile, a window): the platform is busy, not stuck. */
const SLOW = { timeoutMs: 90_000, intervalMs: 100 };

/** What `seedDriftingMonitor` made, by name and id. */
export interface DriftingMonitor {
  projectId: string;
  projectName: string;
  endpointName: string;
  monitorId: string;
  monitorName: string;
  ruleId: string;
  ruleName: string;
  /** The firing alert's id and what it says. */
  alertId: string;
  alertSummary: string;
}

/**
 * A project whose endpoint drifts, made through the gateway as a user would (the approach of
 * apps/monitoring's walkthrough): dataset `churn` version 1 (f0..f9, churned) pushed as a tar; a
 * run that logs it as its training input and the ONNX churn model; model `churn` version 1 from
 * the run; endpoint `churn` logging every request; monitor `churn-drift` with windows of
 * WINDOW_ROWS rows, its reference found through lineage; rule `f0-drift` (f0's KS p-value below
 * 0.05, critical). Then window 1 of traffic like the training data, and window 2 with f0 shifted.
 * Resolves once window 2 is scored and the rule's alert is FIRING.
 */
export async function seedDriftingMonitor(name: string): Promise<DriftingMonitor> {
  const { projectId, name: projectName } = await seedProject(name);
  const client = platformClient();
  const call = <T>(method: `${string}.${string}/${string}`, body: object) => client.call<T>(method, body);
  const post = <T>(path: string, body: object) => client.json<T>(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-monitoring-seed-'));
  try {
    const { dataset } = await call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'churn' });
    const header = [...features(), 'churned'].join(',');
    writeFileSync(join(scratch, 'train.csv'), [header, ...featureRows(TRAINING_ROWS, 17).map((row, i) => `${row.join(',')},${i % 2}`), ''].join('\n'));
    await client.request(`/v1/data/datasets/${dataset.id}/versions?message=training`, {
      method: 'POST',
      body: execFileSync('tar', ['-C', scratch, '-c', 'train.csv']),
      headers: { 'content-type': 'application/x-tar' },
    });

    const mlflow = `/projects/${projectName}/api/2.0/mlflow`;
    const { experiment_id: experimentId } = await post<{ experiment_id: string }>(`${mlflow}/experiments/create`, { name: 'train-churn' });
    const { run } = await post<{ run: { info: { run_id: string } } }>(`${mlflow}/runs/create`, { experiment_id: experimentId, run_name: 'fit' });
    const runId = run.info.run_id;
    await post(`${mlflow}/runs/log-inputs`, {
      run_id: runId,
      datasets: [{ dataset: { name: 'churn', digest: 'v1', source_type: 'trellis', source: 'datasets:/churn/1' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
    });
    const model = await churnModel(join(scratch, 'model.onnx'));
    await client.request(`/projects/${projectName}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/model.onnx`, { method: 'PUT', body: model });
    await post(`${mlflow}/runs/update`, { run_id: runId, status: 'FINISHED', end_time: Date.now() });
    await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
    await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model`, runId, format: 'onnx' });
    await call('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version: '1' });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const endpointName = 'churn';
  const { endpoint } = await call<{ endpoint: { id: string } }>('trellis.serving.v1.EndpointService/CreateEndpoint', { projectId, name: endpointName, model: 'models:/churn/1', predictionLogShare: 1 });
  await eventually(async () => {
    const { endpoint: current } = await call<{ endpoint: { revisions: Array<{ state: string }> } }>('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: endpoint.id });
    if (current.revisions[0]?.state !== 'REVISION_STATE_READY') throw new Error(`the revision is ${current.revisions[0]?.state}`);
  }, SLOW);

  // The reference is the training version's profile: the monitor is PENDING until it is computed.
  const monitorName = 'churn-drift';
  const { monitor } = await call<{ monitor: { id: string } }>('trellis.monitoring.v1.MonitoringService/CreateMonitor', {
    projectId,
    name: monitorName,
    endpoint: { endpointName },
    window: { rows: String(WINDOW_ROWS) },
  });
  await eventually(async () => {
    const { monitor: current } = await call<{ monitor: { state: string; stateMessage?: string } }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
    if (current.state !== 'MONITOR_STATE_ACTIVE') throw new Error(`the monitor is ${current.state}: ${current.stateMessage ?? ''}`);
  }, SLOW);
  const ruleName = `${DRIFTING_COLUMN}-drift`;
  const { rule } = await call<{ rule: { id: string } }>('trellis.monitoring.v1.AlertService/CreateAlertRule', {
    rule: { monitorId: monitor.id, name: ruleName, columnDistance: { column: DRIFTING_COLUMN, below: 0.05 }, severity: 'ALERT_SEVERITY_CRITICAL' },
  });

  await infer(projectId, endpointName, featureRows(WINDOW_ROWS, 101));
  await infer(
    projectId,
    endpointName,
    featureRows(WINDOW_ROWS, 202).map(([first, ...rest]) => [first + SHIFT, ...rest]),
  );
  const alert = await eventually(async () => {
    const { alerts = [] } = await call<{ alerts?: Array<{ id: string; state: string; summary: string }> }>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, monitorId: monitor.id });
    const firing = alerts.find((listed) => listed.state === 'ALERT_STATE_FIRING');
    if (!firing) throw new Error(`no firing alert yet: ${JSON.stringify(alerts)}`);
    return firing;
  }, SLOW);
  return { projectId, projectName, endpointName, monitorId: monitor.id, monitorName, ruleId: rule.id, ruleName, alertId: alert.id, alertSummary: alert.summary };
}

/**
 * Sends rows to the project's endpoint as one OIP REST request (tensor x, FP32 [rows, 10]), naming
 * the project: the shared platform's admin reads every spec's projects, some with an endpoint of
 * the same name.
 */
async function infer(projectId: string, endpointName: string, rows: number[][]): Promise<void> {
  await platformClient().json(`/v2/models/${endpointName}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'trellis-project': projectId },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, CHURN_FEATURES], data: rows.flat() }] }),
  });
}

/** f0..f9, the churn model's input columns. */
function features(): string[] {
  return Array.from({ length: CHURN_FEATURES }, (_, i) => `f${i}`);
}

/** `count` rows of the ten features from a fixed seed: feature i is roughly normal around i / 10 (a sum of three uniforms). */
function featureRows(count: number, seed: number): number[][] {
  const uniform = seededUniforms(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: CHURN_FEATURES }, (_, i) => Math.round((i / 10 + uniform() + uniform() + uniform() - 1.5) * 1000) / 1000),
  );
}
