import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { runProcess, type RunningProcess, type ServiceDefinition } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

/** The admin's API key of the stacks the MLflow suites start. */
export const ADMIN_KEY = `trellis_00000000000000ad_${'m'.repeat(43)}`;

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The HTTP calls MLflow's Python client makes (mlflow/store/tracking/rest_store.py,
 * store/model_registry/rest_store.py and utils/rest_utils.py): `{tracking_uri}{endpoint}`; a GET
 * carries its fields in the query string, lists as repeated keys and numbers as text; anything
 * else (DELETE included) a JSON body; int64 fields as JSON numbers and NaN or infinities as strings
 * (protobuf JSON). Credentials: MLFLOW_TRACKING_TOKEN as Bearer, MLFLOW_TRACKING_USERNAME and
 * _PASSWORD as Basic.
 */
export class PythonClient {
  constructor(
    readonly trackingUri: string,
    private readonly credentials: { token?: string; username?: string; password?: string } = {},
  ) {}

  get authorization(): Record<string, string> {
    const { token, username, password } = this.credentials;
    if (username !== undefined && password !== undefined) return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  async call(method: string, endpoint: string, fields: Json = {}): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { 'user-agent': 'mlflow-python-client/2.22.0', ...this.authorization };
    let url = `${this.trackingUri.replace(/\/$/, '')}${endpoint}`;
    let body: string | undefined;
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) {
        for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) query.append(name, String(item));
      }
      if ([...query].length > 0) url += `?${query}`;
    } else {
      body = JSON.stringify(fields);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  /** `_call_endpoint`: the answer of a 200, else the MLflow error the client would raise. */
  async ok(method: string, endpoint: string, fields: Json = {}): Promise<Json> {
    const { status, body } = await this.call(method, `/api/2.0/mlflow/${endpoint}`, fields);
    if (status !== 200) throw new Error(`${method} ${endpoint} answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }

  /** `mlflow.set_experiment(name)`: get-by-name; on RESOURCE_DOES_NOT_EXIST create, then get. */
  async setExperiment(name: string): Promise<Json> {
    const found = await this.call('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: name });
    if (found.status === 200) return found.body.experiment;
    if (found.body.error_code !== 'RESOURCE_DOES_NOT_EXIST') throw new Error(`get-by-name answered ${found.status}: ${JSON.stringify(found.body)}`);
    const { experiment_id } = await this.ok('POST', 'experiments/create', { name });
    return (await this.ok('GET', 'experiments/get', { experiment_id })).experiment;
  }

  /** `mlflow.start_run()`, with the context tags the client adds. */
  async startRun(experimentId: string, options: { runName?: string; tags?: Json } = {}): Promise<Json> {
    const tags = { 'mlflow.user': 'alice', 'mlflow.source.name': 'train.py', 'mlflow.source.type': 'LOCAL', ...options.tags };
    const { run } = await this.ok('POST', 'runs/create', {
      experiment_id: experimentId,
      user_id: 'alice',
      start_time: Date.now(),
      run_name: options.runName,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    return run;
  }

  /**
   * The artifact repository of an `mlflow-artifacts:` URI (a run's, or a model version's download
   * URI): `MlflowArtifactsRepository.resolve_uri` turns `mlflow-artifacts:/<path>` into
   * `<tracking URI scheme and host><tracking URI path>/api/2.0/mlflow-artifacts/artifacts/<path>`.
   */
  artifactRepository(artifactUri: string): string {
    const tracking = new URL(this.trackingUri);
    const artifact = new URL(artifactUri);
    const resolved = `${tracking.pathname}//api/2.0/mlflow-artifacts/artifacts/${artifact.pathname}`.replace(/\/\/+/g, '/');
    return `${tracking.protocol}//${artifact.host || tracking.host}${resolved}`.replace(/\/$/, '');
  }

  /** `mlflow.log_artifact(local_file, artifact_path)`: runs/get for artifact_uri, then one PUT of the file. */
  async logArtifact(runId: string, fileName: string, bytes: Buffer, artifactPath?: string): Promise<number> {
    const { run } = await this.ok('GET', 'runs/get', { run_uuid: runId, run_id: runId });
    const endpoint = posix.join('/', ...(artifactPath ? [artifactPath, fileName] : [fileName]));
    const response = await fetch(`${this.artifactRepository(run.info.artifact_uri)}${endpoint}`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', ...this.authorization },
      body: bytes,
    });
    await response.text();
    return response.status;
  }

  /**
   * `HttpArtifactRepository.list_artifacts(path)`: GET mlflow-artifacts/artifacts?path=<root>/<path> at the URI before the
   * artifacts endpoint, joined as Python's `posixpath.join` joins, which keeps `.` (`download_artifacts(artifact_path=".")`).
   */
  async listArtifacts(artifactUri: string, path?: string): Promise<{ status: number; body: Json }> {
    const [base, tail] = this.artifactRepository(artifactUri).split('/mlflow-artifacts/artifacts');
    const root = tail.replace(/^\/+/, '');
    const response = await fetch(`${base}/mlflow-artifacts/artifacts?${new URLSearchParams({ path: path ? `${root}/${path}` : root })}`, { headers: this.authorization });
    return { status: response.status, body: (await response.json()) as Json };
  }

  /** `HttpArtifactRepository._download_file`: GET of the file under the repository. */
  async download(artifactUri: string, path: string): Promise<{ status: number; bytes: Buffer }> {
    const response = await fetch(`${this.artifactRepository(artifactUri)}${posix.join('/', path)}`, { headers: this.authorization });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  }
}

/** A standalone Trellis process with the gateway, as `npm start` runs it, and the admin's MLflow client. */
export interface MlflowStack {
  base: string;
  client: PythonClient;
  /** A call of the gateway's gRPC-as-JSON routes (`POST /v1/<service>/<method>`), as the admin unless `key` says otherwise. */
  rpc(service: { typeName: string }, method: string, body: Json, key?: string): Promise<Json>;
  /** The id of a project, by name. */
  projectId(name: string): Promise<string>;
  /** A new service account with a role in a project, and its API key. */
  keyFor(name: string, role: 'ROLE_VIEWER' | 'ROLE_EDITOR' | 'ROLE_ADMIN', projectName?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `services` (governance among them) and the gateway in one process, on free ports, with SQLite and storage-fs in a fresh directory. */
export async function startMlflowStack(services: ServiceDefinition[]): Promise<MlflowStack> {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'trellis-mlflow-'));
  Object.assign(process.env, {
    TRELLIS_DATA_DIR: join(dir, 'data'),
    TRELLIS_OPS_PORT: '0',
    TRELLIS_GATEWAY_PORT: '0',
    TRELLIS_LOG_LEVEL: 'silent',
    TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    ...Object.fromEntries(services.map((service) => [`TRELLIS_${service.name.toUpperCase()}_PORT`, '0'])),
  });
  let running: RunningProcess | undefined;
  const stop = async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    running = await runProcess({ mode: 'standalone', services, edges: [gatewayEdge], plugins: [storageFs], print: () => undefined });
  } catch (error) {
    await stop();
    throw error;
  }
  const base = running.edges.find((edge) => edge.name === 'gateway')?.address ?? '';
  const rpc = async (service: { typeName: string }, method: string, body: Json, key = ADMIN_KEY): Promise<Json> => {
    const response = await fetch(`${base}/v1/${service.typeName}/${method}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    const answer = (await response.json()) as Json;
    if (response.status !== 200) throw new Error(`${service.typeName}/${method} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const projectId = async (name: string): Promise<string> => {
    const { projects } = await rpc(IdentityServiceDesc, 'ListProjects', {});
    const project = (projects as Json[]).find((one) => one.name === name);
    if (!project) throw new Error(`no project "${name}"`);
    return project.id;
  };
  const keyFor = async (name: string, role: string, projectName = 'default') => {
    const { principal } = await rpc(IdentityServiceDesc, 'CreatePrincipal', { kind: 'PRINCIPAL_KIND_SERVICE_ACCOUNT', name, displayName: name });
    await rpc(IdentityServiceDesc, 'SetRoleBinding', { binding: { projectId: await projectId(projectName), principalId: principal.id, role } });
    return (await rpc(TokenServiceDesc, 'CreateApiKey', { principalId: principal.id, name })).secret as string;
  };
  return { base, client: new PythonClient(base, { token: ADMIN_KEY }), rpc, projectId, keyFor, stop };
}
