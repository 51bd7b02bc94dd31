import { dataService } from '@trellis/data';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { monitoringService } from '@trellis/monitoring';
import { runProcess, type RunningProcess } from '@trellis/platform';
import driftStats from '@trellis/plugin-drift-stats';
import kmsLocal from '@trellis/plugin-kms-local';
import notifierWebhook from '@trellis/plugin-notifier-webhook';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
// Builds runtime-onnx and the SDK from this workspace's sources as a module a worker imports, as serving loads it.
import { buildForWorker, CHURN_FEATURES, churnModel } from '@trellis/plugin-runtime-onnx/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { closedPort, eventually, seededUniforms } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The platform as a user meets it: governance, data, tracking, registry, serving and monitoring behind the gateway, in one standalone process. */
export interface MonitoringPlatform {
  /** The spec's scratch folder, removed by `stop`. */
  readonly dir: string;
  /** The gateway's base URL (HTTP: JSON routes, MLflow, OIP REST under /v2). */
  readonly gateway: string;
  readonly process: RunningProcess;
  /** The admin key every request of these helpers carries. */
  readonly adminKey: string;
  /** `POST <path>` of a JSON body to the gateway; an answer other than 200 throws, saying it. */
  post<T>(path: string, body: object): Promise<T>;
  /** `post` to the JSON route of a gRPC method, `/v1/<package.Service>/<Method>`. */
  call<T>(method: string, body: object): Promise<T>;
  /** A request to the gateway with the admin key as the bearer credential. */
  http(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the process, restores `process.env` and removes the scratch folder. */
  stop(): Promise<void>;
}

/**
 * Starts the platform in this process (standalone, SQLite, every port picked free but serving's
 * REST port, which the gateway must know), with `adminKey` as governance's first admin key,
 * serving's runtime-onnx worker built from this workspace, and monitoring with drift-stats and
 * notifier-webhook. `env` adds to or overrides the settings. It changes `process.env` until `stop`.
 */
export async function startMonitoringPlatform(name: string, adminKey: string, env: Record<string, string> = {}): Promise<MonitoringPlatform> {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), `trellis-monitoring-${name}-`));
  const cleanUp = () => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  };
  let running: RunningProcess;
  try {
    const services = [governanceService, dataService, trackingService, registryService, servingService, monitoringService];
    const runtimeModule = await buildForWorker(join(__dirname, '..', '..', '..', 'plugins', 'runtime-onnx', 'src'), join(dir, 'worker'));
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: adminKey,
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: String(await closedPort()),
      TRELLIS_SERVING_RUNTIME_MODULES: `runtime-onnx=${runtimeModule}`,
      ...Object.fromEntries(services.map((service) => [`TRELLIS_${service.name.toUpperCase()}_PORT`, '0'])),
      ...env,
    });
    running = await runProcess({
      mode: 'standalone',
      services,
      edges: [gatewayEdge],
      plugins: [storageFs, kmsLocal, runtimeOnnx, driftStats, notifierWebhook],
      print: () => undefined,
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
  const gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
  const http = (path: string, init: RequestInit = {}) => fetch(`${gateway}${path}`, { ...init, headers: { authorization: `Bearer ${adminKey}`, ...init.headers } });
  const post = async <T>(path: string, body: object): Promise<T> => {
    const response = await http(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    dir,
    gateway,
    process: running,
    adminKey,
    http,
    post,
    call: (method, body) => post(`/v1/${method}`, body),
    async stop() {
      await running.stop();
      cleanUp();
    },
  };
}

export { CHURN_FEATURES };

/**
 * `count` churn feature rows drawn from a fixed seed: feature i is roughly normal around i / 10
 * (a sum of uniforms), plus `shift` for a shifted distribution. The same arguments give the same rows.
 */
export function churnRows(count: number, seed: number, shift = 0): number[][] {
  const uniform = seededUniforms(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: CHURN_FEATURES }, (_, i) => Math.round((i / 10 + (uniform() + uniform() + uniform() - 1.5) + shift) * 1000) / 1000),
  );
}

/** What `deployChurn` set up, by name and id. */
export interface ChurnDeployment {
  projectName: string;
  projectId: string;
  datasetName: string;
  datasetId: string;
  /** `datasets:/<name>/1`, the training data. */
  datasetUri: string;
  /** The rows of the training CSV (f0..f9; churned is their index's parity). */
  trainingRows: number[][];
  runId: string;
  modelName: string;
  endpointName: string;
  endpointId: string;
}

/**
 * What a user does before monitoring, through the gateway with the admin key: a project; dataset
 * `churn` version 1, a CSV of `rows` rows (f0..f9, churned) pushed as a tar; a run that logs it as
 * its training input and the ONNX churn MLP; model `churn` version 1 from the run; endpoint `churn`
 * serving it, logging every request. Resolves once the revision is READY and the version's profile
 * is ready.
 */
export async function deployChurn(platform: MonitoringPlatform, options: { project?: string; rows?: number; seed?: number } = {}): Promise<ChurnDeployment> {
  const projectName = options.project ?? 'churn-monitoring';
  const trainingRows = churnRows(options.rows ?? 400, options.seed ?? 17);
  const { call } = platform;
  const projectId = (await call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: projectName })).project.id;

  const datasetId = (await call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'churn' })).dataset.id;
  const data = join(platform.dir, `${projectName}-data`);
  mkdirSync(data);
  const header = [...Array.from({ length: CHURN_FEATURES }, (_, i) => `f${i}`), 'churned'].join(',');
  writeFileSync(join(data, 'train.csv'), [header, ...trainingRows.map((row, i) => `${row.join(',')},${i % 2}`), ''].join('\n'));
  const pushed = await platform.http(`/v1/data/datasets/${datasetId}/versions?message=training`, {
    method: 'POST',
    body: execFileSync('tar', ['-C', data, '-c', '.']),
    headers: { 'content-type': 'application/x-tar' },
  });
  if (pushed.status !== 200) throw new Error(`pushing the dataset: ${pushed.status} ${await pushed.text()}`);

  const mlflow = <T>(path: string, body: object) => platform.post<T>(`/projects/${projectName}/api/2.0/mlflow/${path}`, body);
  const experimentId = (await mlflow<{ experiment_id: string }>('experiments/create', { name: 'train-churn' })).experiment_id;
  const runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId, run_name: 'fit' })).run.info.run_id;
  const datasetUri = 'datasets:/churn/1';
  await mlflow('runs/log-inputs', {
    run_id: runId,
    datasets: [{ dataset: { name: 'churn', digest: 'v1', source_type: 'trellis', source: datasetUri }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
  });
  const model = await churnModel(join(platform.dir, `${projectName}.onnx`));
  const uploaded = await platform.http(`/projects/${projectName}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/model.onnx`, { method: 'PUT', body: model });
  if (uploaded.status !== 200) throw new Error(`uploading the model: ${uploaded.status} ${await uploaded.text()}`);
  await mlflow('runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });

  await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
  await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model`, runId, format: 'onnx' });
  await call('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version: '1' });

  const endpoint = (await call<{ endpoint: { id: string } }>('trellis.serving.v1.EndpointService/CreateEndpoint', { projectId, name: 'churn', model: 'models:/churn/1', predictionLogShare: 1 })).endpoint;
  await eventually(
    async () => {
      const { endpoint: current } = await call<{ endpoint: { revisions: Array<{ state: string }> } }>('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: endpoint.id });
      if (current.revisions[0]?.state !== 'REVISION_STATE_READY') throw new Error(`the revision is ${current.revisions[0]?.state}`);
    },
    { timeoutMs: 60_000 },
  );
  await eventually(
    async () => {
      const profile = await call<{ status: string }>('trellis.data.v1.ProfileService/GetVersionProfile', { datasetId, version: '1' });
      if (profile.status !== 'PROFILE_STATUS_READY') throw new Error(`the profile is ${profile.status}`);
    },
    { timeoutMs: 60_000 },
  );
  return { projectName, projectId, datasetName: 'churn', datasetId, datasetUri, trainingRows, runId, modelName: 'churn', endpointName: 'churn', endpointId: endpoint.id };
}
