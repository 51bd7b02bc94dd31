import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import storageFs from '@trellis/plugin-storage-fs';
import { ArtifactServiceDesc, RegistryServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { closedPort, eventually } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeOnnx } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const ADMIN_KEY = `trellis_00000000000000d3_${'G'.repeat(43)}`;
const X = [0.5, -1, 2, 4, 1.5, 0, -3, 0.25];

/** The parts of the JSON answers the spec reads. */
interface Answer {
  project?: { id: string };
  experiment?: { id: string };
  run?: { info: { id: string } };
  token?: string;
  endpoint?: { id: string; revisions: Array<{ id: string; state: string }> };
}

/** docs/serving.md's inference calls through the gateway with an API key (standalone, one process): a registered ONNX model deployed and answering OIP REST on the gateway's port. */
describe('OIP REST through the gateway (standalone)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-serving-gateway-oip-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  let gateway: string;
  let endpoint: NonNullable<Answer['endpoint']>;

  const call = async (method: string, body: unknown): Promise<Answer> => {
    const response = await fetch(`${gateway}/v1/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Answer;
    if (response.status !== 200) throw new Error(`${method}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const infer = (headers: Record<string, string> = {}) =>
    fetch(`${gateway}/v2/models/scale/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ id: 'r1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: X }] }),
    });

  beforeAll(async () => {
    const runtimeModule = await buildRuntimeOnnx(dir);
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      // The gateway forwards /v2 to the port serving is told; one picked at start it cannot learn.
      TRELLIS_SERVING_HTTP_PORT: String(await closedPort()),
      TRELLIS_SERVING_RUNTIME_MODULES: `runtime-onnx=${runtimeModule}`,
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_REGISTRY_PORT: '0',
      TRELLIS_SERVING_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
    });
    running = await runProcess({
      mode: 'standalone',
      services: [governanceService, trackingService, registryService, servingService],
      edges: [gatewayEdge],
      plugins: [storageFs, kmsLocal, runtimeOnnx],
      print: () => undefined,
    });
    gateway = running.edges[0].address;

    const projectId = (await call('trellis.governance.v1.IdentityService/CreateProject', { name: 'oip-through-gateway' })).project!.id;
    const experimentId = (await call('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'scale' })).experiment!.id;
    const runId = (await call('trellis.tracking.v1.RunService/CreateRun', { experimentId, runName: 'train' })).run!.info.id;
    // The artifact's upload is a client stream, which has no JSON route: it goes to tracking's gRPC port with the admin's token.
    const { token } = await call('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey: ADMIN_KEY });
    const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;
    const artifacts = createGrpcClient(ArtifactServiceDesc, address('tracking'), { token });
    await artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'model/model.onnx' } } }, { part: { case: 'chunk', value: await scaleModel(2, join(dir, 'scale.onnx')) } }]);
    await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'scale' });
    await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'scale', source: `runs:/${runId}/model`, runId, format: 'onnx' });
    await createGrpcClient(RegistryServiceDesc, address('registry'), { token }).waitVersion({ projectId, modelName: 'scale', version: 1n }, { timeoutMs: 30_000 });
    endpoint = (await call('trellis.serving.v1.EndpointService/CreateEndpoint', { projectId, name: 'scale', model: 'models:/scale/1' })).endpoint!;
    await eventually(async () => expect((await call('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: endpoint.id })).endpoint!.revisions[0].state).toBe('REVISION_STATE_READY'), {
      timeoutMs: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an infer call sent with an API key with the model\'s values, naming the revision that answered', async () => {
    const response = await infer({ authorization: `Bearer ${ADMIN_KEY}` });
    expect({ status: response.status, revision: response.headers.get('trellis-revision'), body: await response.json() }).toEqual({
      status: 200,
      revision: endpoint.revisions[0].id,
      body: { model_name: 'scale', model_version: '1', id: 'r1', outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 4], data: X.map((value) => value * 2) }] },
    });
  });

  it('answers health, server and model metadata and readiness through the gateway', async () => {
    const get = async (path: string) => {
      const response = await fetch(`${gateway}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text() };
    };
    expect((await get('/v2/health/live')).status).toBe(200);
    expect((await get('/v2')).body).toMatchObject({ name: expect.any(String), version: expect.any(String) });
    expect(await get('/v2/models/scale')).toMatchObject({ status: 200, body: { name: 'scale', versions: ['1'], platform: 'onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] } });
    expect((await get('/v2/models/scale/versions/1/ready')).status).toBe(200);
  });

  it('refuses a call without credentials, and a refused API key, as serving and the gateway answer them', async () => {
    const anonymous = await infer();
    expect(anonymous.status).toBe(401);
    const refused = await infer({ authorization: `Bearer trellis_00000000000000d3_${'X'.repeat(43)}` });
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 401, body: { error: expect.stringMatching(/^API key exchange failed/) } });
  });
});
