import { GatewayClient, type RpcMethod } from '@trellis/client';
import { eventually, seededUniforms } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running platform as a user meets it: the gateway's URL and an org admin's API key. */
export interface FlowTarget {
  gateway: string;
  adminKey: string;
}

/** How the flow goes where a platform may not take the stock path. */
export interface UserFlowOptions {
  /**
   * How the model is registered: `mlflow` (the default) as the stock MLflow client does
   * (`mlflow.register_model`: model-versions/create, which names no format, so serving takes it
   * from model.onnx); `registry` through the registry's CreateVersion with format onnx, for a
   * platform whose serving predates that (0.17.0 loads only a version that names its format).
   */
  registration?: 'mlflow' | 'registry';
}

/** What one run of the flow made, by name and id, for a caller that checks more afterwards. */
export interface UserFlow {
  projectName: string;
  projectId: string;
  queue: string;
  datasetId: string;
  /** `datasets:/churn/1`: the version the job trained on. */
  datasetReference: string;
  experimentId: string;
  jobId: string;
  runId: string;
  modelName: string;
  modelVersion: string;
  endpointName: string;
  endpointId: string;
  monitorId: string;
  /** The model's coefficients as the job logged them, one per feature, and its intercept. */
  coefficients: number[];
  intercept: number;
}

/** The churn features, in the dataset's column order; the label `churned` follows them. */
export const CHURN_FEATURES = ['tenure_years', 'monthly_charges', 'support_calls', 'late_payment'] as const;
const TRAINING_ROWS = 300;
/** Rows of the monitor's count window, all sent in one inference request: one window closes. */
const WINDOW_ROWS = 100;
const TRAINING_SCRIPT = join(__dirname, 'train_churn.py');
/** Outcomes that come from a worker (a job, a copy, a load, a profile, a window): the platform is busy, not stuck. */
const SLOW = { timeoutMs: 90_000, intervalMs: 100 };

/**
 * `count` churn-like customers drawn from `seed` (the same seed, the same rows): tenure, monthly
 * charges (in hundreds), support calls and a late payment, and whether they churned, drawn from a
 * logistic model in which short tenure, high charges and many calls make churn likelier.
 */
export function churnRows(count: number, seed: number): Array<{ features: number[]; churned: number }> {
  const uniform = seededUniforms(seed);
  const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;
  return Array.from({ length: count }, () => {
    const features = [round(uniform() * 4, 2), round(0.2 + uniform(), 3), Math.floor(uniform() * 5), uniform() < 0.3 ? 1 : 0];
    const [tenure, charges, calls, late] = features;
    const odds = 0.5 - 1.1 * tenure + 1.8 * (charges - 0.7) + 0.6 * calls + 0.9 * late;
    return { features, churned: uniform() < sigmoid(odds) ? 1 : 0 };
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * A user's whole path through the gateway only, each step asserted: a project with a queue and a
 * grant on compute's `local` cluster; dataset `churn` pushed as a tar and tagged; a job on that
 * queue that reads the tagged version, fits a logistic regression (tools/e2e/train_churn.py under
 * Debian's python3) and logs it to its run, model included; the model registered from the run over
 * MLflow's REST API as `mlflow.register_model` does (see UserFlowOptions); an endpoint serving it;
 * a monitor whose reference lineage finds (the training version); one window of predictions, each
 * equal to what the logged coefficients give, scored per column. `name` makes every name of the
 * run its own, so the flow runs many times on one platform. A failed step says which step and what
 * the gateway answered.
 */
export async function runUserFlow(target: FlowTarget, name: string, { registration = 'mlflow' }: UserFlowOptions = {}): Promise<UserFlow> {
  const gateway = gatewayOf(target);
  const projectName = `e2e-${name}`;
  const queue = `e2e-${name}`;
  const modelName = 'churn';
  const endpointName = `churn-${name}`;
  const training = churnRows(TRAINING_ROWS, 18);

  const projectId = await step('a project with a queue and a grant on the local cluster', async () => {
    const { project } = await gateway.call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: projectName });
    await gateway.call('trellis.compute.v1.QueueService/CreateQueue', { queue: { name: queue, cluster: 'local' } });
    const quotas = [
      { resource: 'cpu', nominal: '1000' },
      { resource: 'memory', nominal: String(1024 ** 3) },
    ];
    await gateway.call('trellis.compute.v1.QueueService/SetGrant', { queue, projectId: project.id, quotas });
    return project.id;
  });

  const { datasetId, datasetReference } = await step('the dataset pushed as a tagged version', async () => {
    const { dataset } = await gateway.call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'churn' });
    const csv = [[...CHURN_FEATURES, 'churned'].join(','), ...training.map(({ features, churned }) => [...features, churned].join(',')), ''].join('\n');
    const pushed = await gateway.request<{ version: { version: string; tags: string[]; reference: string } }>(`/v1/data/datasets/${dataset.id}/versions?message=training&tag=training`, {
      method: 'POST',
      body: tarOf({ 'train.csv': csv }),
      headers: { 'content-type': 'application/x-tar' },
    });
    expect(pushed.version).toMatchObject({ version: '1', tags: ['training'], reference: 'datasets:/churn/1' });
    return { datasetId: dataset.id, datasetReference: pushed.version.reference };
  });

  const { experimentId, jobId, runId, coefficients, intercept } = await step('a job that trains on the tagged version and logs to its run', async () => {
    const { experiment } = await gateway.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'churn' });
    const { job } = await gateway.call<{ job: { id: string } }>('trellis.compute.v1.JobService/SubmitJob', {
      projectId,
      queue,
      spec: {
        name: 'train-churn',
        // Debian's interpreter, whatever PATH puts first: it has numpy and onnx.
        command: ['sh', '-c', 'command -p python3 "$0"', TRAINING_SCRIPT],
        resources: { cpuMillis: '500', memoryBytes: String(512 * 1024 ** 2) },
        inputs: [{ reference: 'datasets:/churn@training', mode: 'DATASET_INPUT_MODE_MOUNT' }],
        experimentId: experiment.id,
      },
    });
    const ended = await eventually(async () => {
      const { job: current } = await gateway.call<{ job: { state: string; reason?: string; runId?: string } }>('trellis.compute.v1.JobService/GetJob', { jobId: job.id });
      if (!['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(current.state)) throw new Error(`the job is ${current.state}: ${current.reason ?? ''}`);
      return current;
    }, SLOW);
    if (ended.state !== 'JOB_STATE_SUCCEEDED') throw new Error(`the job ended ${ended.state} (${ended.reason ?? ''}); its output:\n${await gateway.jobLogs(job.id)}`);
    const runId = ended.runId ?? '';
    expect(runId).not.toBe('');

    const run = await eventually(async () => {
      const answer = await gateway.request<{ run: MlflowRun }>(`/api/2.0/mlflow/runs/get?run_id=${runId}`);
      expect(answer.run.info.status).toBe('FINISHED');
      return answer.run;
    }, SLOW);
    const params = Object.fromEntries(run.data.params.map(({ key, value }) => [key, value]));
    const coefficients = CHURN_FEATURES.map((feature) => Number(params[`coef.${feature}`]));
    const intercept = Number(params.intercept);
    expect({ features: params.features, coefficients: coefficients.every(Number.isFinite), intercept: Number.isFinite(intercept) }).toEqual({
      features: CHURN_FEATURES.join(','),
      coefficients: true,
      intercept: true,
    });
    // The metric the job logged is the loss of the logged model on these rows: it trained on this version.
    const metric = run.data.metrics.find(({ key }) => key === 'train_log_loss');
    expect(metric?.value).toBeCloseTo(logLoss(training, coefficients, intercept), 9);
    expect(run.inputs.dataset_inputs.map(({ dataset }) => dataset.source)).toEqual([datasetReference]);
    return { experimentId: experiment.id, jobId: job.id, runId, coefficients, intercept };
  });

  const modelVersion = await step("the model registered from the run's model/ folder", async () => {
    const mlflow = `/projects/${projectName}/api/2.0/mlflow`;
    await gateway.request(`${mlflow}/registered-models/create`, json({ name: modelName }));
    const source = `runs:/${runId}/model`;
    const created =
      registration === 'registry'
        ? (await gateway.call<{ version: { version: string } }>('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName, source, runId, format: 'onnx' })).version
        : (await gateway.request<{ model_version: { version: string } }>(`${mlflow}/model-versions/create`, json({ name: modelName, source, run_id: runId }))).model_version;
    const registered = await eventually(async () => {
      const { model_version: current } = await gateway.request<{ model_version: { status: string; status_message?: string } }>(
        `${mlflow}/model-versions/get?name=${modelName}&version=${created.version}`,
      );
      if (current.status === 'PENDING_REGISTRATION') throw new Error(`version ${created.version} is ${current.status}`);
      return current;
    }, SLOW);
    expect(registered).toMatchObject({ status: 'READY' });
    // Lineage: the version came from the run, which the job ran and which read the dataset version.
    const model = `projects/${projectId}/models/${modelName}/versions/${created.version}`;
    const upstream = [model, `runs/${runId}`, `jobs/${jobId}`, `datasets/${datasetId}/versions/1`];
    await eventually(async () => {
      const lineage = await gateway.call<{ nodes: Array<{ name: string }> }>('trellis.data.v1.LineageService/GetLineage', { node: model, direction: 'LINEAGE_DIRECTION_UPSTREAM', depth: 2 });
      expect(lineage.nodes.map((node) => node.name).sort()).toEqual([...upstream].sort());
    }, SLOW);
    return created.version;
  });

  const endpointId = await step('the version deployed to an endpoint', async () => {
    const { endpoint } = await gateway.call<{ endpoint: { id: string } }>('trellis.serving.v1.EndpointService/CreateEndpoint', {
      projectId,
      name: endpointName,
      model: `models:/${modelName}/${modelVersion}`,
      predictionLogShare: 1,
    });
    const revision = await eventually(async () => {
      const { endpoint: current } = await gateway.call<{ endpoint: { revisions: Array<{ state: string; stateMessage?: string }> } }>('trellis.serving.v1.EndpointService/GetEndpoint', {
        endpointId: endpoint.id,
      });
      if (current.revisions[0]?.state === 'REVISION_STATE_PENDING') throw new Error('the revision is REVISION_STATE_PENDING');
      return current.revisions[0];
    }, SLOW);
    expect({ state: revision?.state, stateMessage: revision?.stateMessage ?? '' }).toEqual({ state: 'REVISION_STATE_READY', stateMessage: '' });
    return endpoint.id;
  });

  // The monitor comes before the predictions: an endpoint's rows count from the monitor's activation on.
  const monitorId = await step('a monitor on the endpoint, its reference found through lineage', async () => {
    const { monitor } = await gateway.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/CreateMonitor', {
      projectId,
      name: 'churn-drift',
      endpoint: { endpointName },
      window: { rows: String(WINDOW_ROWS) },
    });
    expect(monitor.reference).toMatchObject({ origin: `lineage: models:/${modelName}/${modelVersion}, run ${runId}, training input ${datasetReference}` });
    const active = await eventually(async () => {
      const { monitor: current } = await gateway.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
      if (current.state === 'MONITOR_STATE_PENDING') throw new Error(`the monitor is PENDING: ${current.stateMessage ?? ''}`);
      return current;
    }, SLOW);
    expect(active).toMatchObject({ state: 'MONITOR_STATE_ACTIVE' });
    expect(active.monitoredColumns.map(({ name: column, detector }) => [column, detector])).toEqual(CHURN_FEATURES.map((feature) => [feature, 'ks']));
    return monitor.id;
  });

  await step('predictions over OIP REST, each what the logged coefficients give', async () => {
    const rows = churnRows(WINDOW_ROWS, 81).map(({ features }) => features);
    const answer = await gateway.request<{ model_name: string; outputs: Array<{ name: string; shape: number[]; data: number[] }> }>(
      `/v2/models/${endpointName}/infer`,
      json({ id: `${name}-window-1`, inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, CHURN_FEATURES.length], data: rows.flat() }] }),
    );
    expect(answer.model_name).toBe(endpointName);
    const [y] = answer.outputs;
    expect({ name: y.name, shape: y.shape }).toEqual({ name: 'y', shape: [rows.length, 1] });
    // The model computes in float32: its inputs are the rows rounded to float32, its sums carry float32's error.
    const expected = rows.map((row) => sigmoid(row.reduce((sum, value, i) => sum + Math.fround(value) * coefficients[i], intercept)));
    const farthest = Math.max(...expected.map((value, i) => Math.abs(value - y.data[i])));
    expect(farthest).toBeLessThan(1e-5);
  });

  await step("the monitor's window scored, a verdict per column", async () => {
    const window = await eventually(async () => {
      const { windows } = await gateway.call<{ windows?: JsonWindow[] }>('trellis.monitoring.v1.MonitoringService/ListWindowResults', { monitorId });
      if (!windows?.length) throw new Error('no window has closed');
      return windows[0];
    }, SLOW);
    expect(window).toMatchObject({ number: '1', rows: String(WINDOW_ROWS) });
    expect(window.columns.map(({ column, detector, pValue, rows }) => ({ column, detector, pValue, rows }))).toEqual(
      CHURN_FEATURES.map((column) => ({ column, detector: 'ks', pValue: true, rows: String(WINDOW_ROWS) })),
    );
    // ks: a column drifted when its p-value is under the threshold (protobuf JSON leaves out false and 0).
    for (const column of window.columns) expect({ column: column.column, drifted: column.drifted ?? false }).toEqual({ column: column.column, drifted: (column.value ?? 0) < column.threshold });
  });

  return { projectName, projectId, queue, datasetId, datasetReference, experimentId, jobId, runId, modelName, modelVersion, endpointName, endpointId, monitorId, coefficients, intercept };
}

/** The run as MLflow's `runs/get` answers it, the parts the flow reads. */
interface MlflowRun {
  info: { status: string };
  data: { params: Array<{ key: string; value: string }>; metrics: Array<{ key: string; value: number }> };
  inputs: { dataset_inputs: Array<{ dataset: { source: string } }> };
}

interface JsonMonitor {
  id: string;
  state: string;
  stateMessage?: string;
  reference: { origin: string };
  monitoredColumns: Array<{ name: string; detector: string }>;
}

interface JsonWindow {
  number: string;
  rows: string;
  columns: Array<{ column: string; detector: string; pValue?: boolean; value?: number; threshold: number; drifted?: boolean; rows: string }>;
}

/** Mean log loss of the logistic regression (`coefficients`, `intercept`) on `rows`, in float64 as the job computes it. */
function logLoss(rows: ReadonlyArray<{ features: number[]; churned: number }>, coefficients: number[], intercept: number): number {
  const losses = rows.map(({ features, churned }) => {
    const p = sigmoid(features.reduce((sum, value, i) => sum + value * coefficients[i], intercept));
    return -(churned * Math.log(p) + (1 - churned) * Math.log(1 - p));
  });
  return losses.reduce((sum, loss) => sum + loss, 0) / losses.length;
}

/** Runs one step of the flow; a failure names the step before what went wrong. */
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error) error.message = `user flow, step "${name}": ${error.message}`;
    throw error;
  }
}

const json = (body: object): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** A tar archive of the files given by name, as `tar -c` makes it. */
function tarOf(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-e2e-push-'));
  try {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    return execFileSync('tar', ['-C', dir, '-c', '.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Requests to the gateway with the admin key; any answer but 200 throws with the request and what the gateway said. */
function gatewayOf({ gateway, adminKey }: FlowTarget) {
  const client = new GatewayClient({ url: gateway, credential: adminKey });
  return {
    /** Any gateway route that answers JSON (MLflow REST, a dataset push). */
    request: <T = unknown>(path: string, init: RequestInit = {}) => client.json<T>(path, init),
    /** The JSON route of a gRPC method, `/v1/<package.Service>/<Method>`. */
    call: <T = unknown>(method: RpcMethod, body: object) => client.call<T>(method, body),
    /** The job's output, one line per line it wrote (NDJSON through the gateway). */
    async jobLogs(jobId: string): Promise<string> {
      const lines: string[] = [];
      for await (const { line } of client.stream<{ line?: string }>('trellis.compute.v1.JobService/StreamJobLogs', { jobId })) lines.push(line ?? '');
      return lines.join('\n');
    },
  };
}
