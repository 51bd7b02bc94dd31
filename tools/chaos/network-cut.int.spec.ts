import { eventually, startTcpProxy, type TcpProxy } from '@trellis/testing';
import { startDistributedPlatform, type DistributedPlatform, type Program, type Service } from '../e2e/distributed-platform';

/** The most any call may take while its upstream is cut: it must end with an error, never hang. */
const CALL_BOUND_MS = 30_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Chaos, part 1: the network between two processes of distributed mode is cut with a TCP proxy
 * (connections dropped, new ones refused, as an unreachable host). Callers get UNAVAILABLE at once,
 * with a message that names what is unreachable, and once the link is back calls succeed again
 * with nothing restarted.
 */
describe('a network cut between two processes (distributed)', () => {
  let platform: DistributedPlatform;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    platform = await startDistributedPlatform();
  }, 300_000);

  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await platform?.close();
  }, 60_000);

  /** A request to the gateway as the admin; a call that does not end within CALL_BOUND_MS fails the spec. */
  const request = async (path: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await fetch(`${platform.gateway}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${platform.adminKey}`, 'content-type': 'application/json', ...init.headers },
      signal: AbortSignal.timeout(CALL_BOUND_MS),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const post = (path: string, body: object) => request(path, { method: 'POST', body: JSON.stringify(body) });
  /** `post` that must answer 200, with what it answered. */
  const ok = async <T>(path: string, body: object): Promise<T> => {
    const answer = await post(path, body);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as T;
  };

  /** Restarts `program` with `setting` pointing through a new proxy in front of `upstream`'s gRPC port. */
  async function throughProxy(program: Program, setting: string, upstream: Service): Promise<TcpProxy> {
    const proxy = await startTcpProxy(`grpc://${platform.processes[upstream].grpc}`);
    proxies.push(proxy);
    await platform.stop(program);
    await platform.start(program, { env: { [setting]: `${proxy.host}:${proxy.port}` } });
    return proxy;
  }

  /** A new project with an experiment and a run in it, through the gateway's MLflow routes. */
  async function projectWithRun(name: string): Promise<{ projectId: string; mlflow: string; experimentId: string; runId: string }> {
    const { project } = await ok<{ project: { id: string } }>('/v1/trellis.governance.v1.IdentityService/CreateProject', { name });
    const mlflow = `/projects/${name}/api/2.0/mlflow`;
    const { experiment_id } = await ok<{ experiment_id: string }>(`${mlflow}/experiments/create`, { name: 'cut' });
    const { run } = await ok<{ run: { info: { run_id: string } } }>(`${mlflow}/runs/create`, { experiment_id, run_name: 'cut' });
    return { projectId: project.id, mlflow, experimentId: experiment_id, runId: run.info.run_id };
  }

  it('gateway -> tracking: while cut, the REST route answers 503 UNAVAILABLE and MLflow TEMPORARILY_UNAVAILABLE, naming tracking and its setting; after, calls succeed again', async () => {
    const proxy = await throughProxy('gateway', 'TRELLIS_GATEWAY_UPSTREAM_TRACKING', 'tracking');
    const { mlflow, runId } = await projectWithRun('cut-gateway-tracking');
    const logStep = (step: number) => post(`${mlflow}/runs/log-metric`, { run_id: runId, key: 'loss', value: step, timestamp: Date.now(), step });
    const unreachable = `the tracking service at ${proxy.host}:${proxy.port} (gateway.upstreams.tracking, TRELLIS_GATEWAY_UPSTREAM_TRACKING) is not answering`;

    proxy.block();
    const rest = await post('/v1/trellis.tracking.v1.RunService/GetRun', { runId });
    expect(rest.status).toBe(503);
    expect(rest.body).toMatchObject({ status: 'UNAVAILABLE', message: expect.stringContaining(unreachable) });
    const logged = await logStep(1);
    expect(logged.status).toBe(503);
    expect(logged.body).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.stringContaining(unreachable) });
    const readiness = await fetch(`${platform.processes.gateway.ops}/readyz`, { signal: AbortSignal.timeout(CALL_BOUND_MS) });
    expect({ status: readiness.status, says: await readiness.text() }).toEqual({ status: 503, says: expect.stringContaining('gateway.upstream.tracking') });

    proxy.unblock();
    await eventually(async () => expect((await logStep(2)).status).toBe(200), { timeoutMs: 60_000, intervalMs: 250 });
    const history = await request(`${mlflow}/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect((history.body.metrics as Array<{ step: number | string }>).map(({ step }) => Number(step))).toContain(2);
    expect((history.body.metrics as Array<{ step: number | string }>).map(({ step }) => Number(step))).not.toContain(1);
  }, 300_000);

  it('registry -> tracking: while cut, a version from a run is refused with UNAVAILABLE naming tracking; after, it is created and its files copied', async () => {
    const proxy = await throughProxy('registry', 'TRELLIS_TRACKING_ADDRESS', 'tracking');
    const { projectId, experimentId, runId } = await projectWithRun('cut-registry-tracking');
    const uploaded = await request(`/projects/cut-registry-tracking/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/weights.bin`, {
      method: 'PUT',
      body: Buffer.from('weights'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(uploaded.status).toBe(200);
    await ok('/v1/trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'cut' });
    const createVersion = () => post('/v1/trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'cut', source: `runs:/${runId}/model`, runId });

    proxy.block();
    const refused = await createVersion();
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ status: 'UNAVAILABLE', message: expect.stringContaining(`the tracking service at ${proxy.host}:${proxy.port}`) });
    expect(refused.body.message).toContain('TRELLIS_TRACKING_ADDRESS');

    proxy.unblock();
    const created = await eventually(
      async () => {
        const answer = await createVersion();
        expect(answer.status).toBe(200);
        return answer.body as { version: { version: string } };
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const settled = await ok<{ version: { status: string; statusMessage?: string } }>('/v1/trellis.registry.v1.RegistryService/WaitVersion', {
      projectId,
      modelName: 'cut',
      version: created.version.version,
    });
    expect(settled.version).toMatchObject({ status: 'MODEL_VERSION_STATUS_READY' });
  }, 300_000);
});
