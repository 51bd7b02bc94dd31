import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningProcess } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { closedPort } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryRuntime } from './memory-runtime.fixture';

const ADMIN_KEY = `trellis_00000000000000d1_${'D'.repeat(43)}`;


/** The parts of the JSON answers the spec reads. */
interface Answer {
  project?: { id: string };
  endpoint?: { id: string; revisions: Array<{ id: string }>; traffic: { targets: unknown[] } };
  revision?: { id: string };
  policy?: unknown;
  rollouts?: unknown[];
  logging?: unknown;
}

/** docs/serving.md's walk-through, through the gateway's JSON routes (standalone, one process). */
describe('serving through the gateway (standalone)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-serving-gateway-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  let gateway: string;

  const call = async (method: string, body: unknown): Promise<{ status: number; json: Answer }> => {
    const response = await fetch(`${gateway}/v1/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Answer };
  };

  beforeAll(async () => {
    const port = await closedPort();
    gateway = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'trellis.yaml'), 'runtime:\n  onnx:\n    plugin: runtime-memory\n');
    Object.assign(process.env, {
      TRELLIS_CONFIG: join(dir, 'trellis.yaml'),
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_REGISTRY_PORT: '0',
      TRELLIS_SERVING_PORT: '0',
      TRELLIS_GATEWAY_PORT: String(port),
    });
    running = await runProcess({
      mode: 'standalone',
      services: [governanceService, trackingService, registryService, servingService],
      edges: [gatewayEdge],
      plugins: [storageFs, kmsLocal, memoryRuntime],
      print: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys from an alias, canaries a new version, rolls back, and answers refusals as HTTP errors', async () => {
    const projectId = (await call('trellis.governance.v1.IdentityService/CreateProject', { name: 'churn-serving' })).json.project!.id;
    await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
    for (const source of ['s3://models/churn/1', 's3://models/churn/2']) {
      await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source, format: 'onnx' });
    }
    await call('trellis.registry.v1.RegistryService/SetAlias', { projectId, modelName: 'churn', alias: 'champion', version: '1' });

    const created = await call('trellis.serving.v1.EndpointService/CreateEndpoint', {
      projectId,
      name: 'churn',
      model: 'models:/churn@champion',
      batching: { maxBatchSize: 32, maxQueueDelayUs: '2000' },
    });
    expect(created.status).toBe(200);
    const endpoint = created.json.endpoint!;
    expect(endpoint.revisions).toEqual([expect.objectContaining({ number: 1, modelVersion: '1', resolvedAlias: 'champion', runtime: 'onnx', state: 'REVISION_STATE_PENDING' })]);

    const canary = await call('trellis.serving.v1.EndpointService/DeployRevision', { endpointId: endpoint.id, model: 'models:/churn/2', trafficPercent: 10 });
    expect(canary.json.endpoint!.traffic.targets).toEqual([
      { revisionId: endpoint.revisions[0].id, percent: 90 },
      { revisionId: canary.json.revision!.id, percent: 10 },
    ]);
    const refused = await call('trellis.serving.v1.EndpointService/SetTraffic', { endpointId: endpoint.id, traffic: { targets: [{ revisionId: canary.json.revision!.id, percent: 50 }] } });
    expect(refused.status).toBe(400);
    const rolledBack = await call('trellis.serving.v1.EndpointService/RollbackEndpoint', { endpointId: endpoint.id });
    expect(rolledBack.json.endpoint!.traffic.targets).toEqual([{ revisionId: endpoint.revisions[0].id, percent: 100 }]);
    expect((await call('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: 'nope' })).status).toBe(404);
  });

  it('sets and reads rollout policies and prediction logging through their JSON routes', async () => {
    const projectId = (await call('trellis.governance.v1.IdentityService/CreateProject', { name: 'fraud-serving' })).json.project!.id;
    await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'fraud' });
    await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'fraud', source: 's3://models/fraud/1', format: 'onnx' });
    const endpointId = (await call('trellis.serving.v1.EndpointService/CreateEndpoint', { projectId, name: 'fraud', model: 'models:/fraud/1' })).json.endpoint!.id;

    const policy = { follow: 'models:/fraud@champion', canaryPercent: 10, bakeTimeMs: '600000', guards: { maxErrorPercent: 2, maxP99LatencyMs: '250', minRequests: '200' }, driftMonitor: 'fraud-drift' };
    const set = await call('trellis.serving.v1.RolloutService/SetRolloutPolicy', { endpointId, policy });
    expect({ status: set.status, policy: set.json.policy }).toEqual({ status: 200, policy });
    const listed = await call('trellis.serving.v1.RolloutService/ListRollouts', { endpointId });
    expect(listed.json).toEqual({ policy, rollouts: [] });
    expect((await call('trellis.serving.v1.RolloutService/SetRolloutPolicy', { endpointId, policy: { ...policy, canaryPercent: 100 } })).status).toBe(400);

    const logging = await call('trellis.serving.v1.PredictionService/SetPredictionLogging', { endpointId, sampleShare: 1 });
    expect({ status: logging.status, logging: logging.json.logging }).toEqual({ status: 200, logging: { endpointId, sampleShare: 1, isDefault: false } });
    expect((await call('trellis.serving.v1.PredictionService/GetPredictionLogging', { endpointId })).json.logging).toEqual({ endpointId, sampleShare: 1, isDefault: false });
    expect((await call('trellis.serving.v1.PredictionService/TracePrediction', { requestId: 'never-sent' })).status).toBe(404);
  });
});
