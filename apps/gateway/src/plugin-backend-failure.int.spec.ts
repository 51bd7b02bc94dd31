import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningProcess } from '@trellis/platform';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { IdentityServiceDesc, PluginInstanceServiceDesc } from '@trellis/proto';
import { trackingService } from '@trellis/tracking';
import { ADMIN_KEY, type Json, PythonClient } from './mlflow-python-client';

/** A storage plugin whose bucket goes out of reach while `reachable` is false, as a remote store's would. */
let reachable = true;
class RemoteBucket extends MemoryObjectStore {
  override async put(...args: Parameters<MemoryObjectStore['put']>) {
    if (!reachable) throw new Error('connect ECONNREFUSED 10.0.0.7:9000 (bucket team-bucket)');
    return super.put(...args);
  }
}
const remoteStorage = definePlugin({
  manifest: { kind: 'storage', id: 'storage-remote', apiVersion: 'v1' },
  configSchema: z.object({ bucket: z.string() }).strict(),
  create: () => new RemoteBucket(),
});

/** MLflow clients of a project whose storage instance's backend fails while they upload. */
describe('an artifact upload whose storage backend fails', () => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'trellis-backend-failure-'));
  let running: RunningProcess;
  let client: PythonClient;
  let base: string;

  const rpc = async (service: { typeName: string }, method: string, body: Json): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${base}/v1/${service.typeName}/${method}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'trellis.yaml'), 'storage:\n  team-bucket:\n    plugin: storage-remote\n    config:\n      bucket: team-bucket\n');
    Object.assign(process.env, {
      TRELLIS_CONFIG: join(dir, 'trellis.yaml'),
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    running = await runProcess({ mode: 'standalone', services: [governanceService, trackingService], edges: [gatewayEdge], plugins: [storageFs, remoteStorage], print: () => undefined });
    base = running.edges[0].address;
    client = new PythonClient(base, { token: ADMIN_KEY });
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 with the plugin's message, naming the instance, and takes the upload once the backend is back", async () => {
    const { body: listed } = await rpc(IdentityServiceDesc, 'ListProjects', {});
    const projectId = (listed.projects as Json[]).find((project) => project.name === 'default')?.id as string;
    // The project chooses the instance through the gateway, which routes the call by its service field.
    const chosen = await rpc(PluginInstanceServiceDesc, 'SetProjectPluginInstance', { service: 'tracking', projectId, kind: 'PLUGIN_KIND_STORAGE', name: 'team-bucket' });
    expect(chosen).toEqual({ status: 200, body: { name: 'team-bucket' } });

    const experiment = await client.setExperiment('backend-failure');
    const runId = (await client.startRun(experiment.experiment_id)).info.run_id as string;
    const { run } = await client.ok('GET', 'runs/get', { run_id: runId });
    const upload = () =>
      fetch(`${client.artifactRepository(run.info.artifact_uri)}/model.txt`, { method: 'PUT', headers: { 'content-type': 'text/plain', ...client.authorization }, body: 'weights' });

    reachable = false;
    const refused = await upload();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: 'storage instance "team-bucket" (plugin storage-remote) failed: connect ECONNREFUSED 10.0.0.7:9000 (bucket team-bucket)',
    });

    reachable = true;
    expect((await upload()).status).toBe(200);
    expect((await client.download(run.info.artifact_uri, 'model.txt')).bytes.toString()).toBe('weights');
  });

  it('routes an instance call to the service it names, and refuses one naming no service', async () => {
    const listed = await rpc(PluginInstanceServiceDesc, 'ListPluginInstances', { service: 'tracking', kind: 'PLUGIN_KIND_STORAGE' });
    expect(listed.status).toBe(200);
    expect((listed.body.instances as Json[]).map((instance) => [instance.service, instance.name, instance.source])).toEqual([
      ['tracking', 'default', 'PLUGIN_INSTANCE_SOURCE_CONFIG'],
      ['tracking', 'team-bucket', 'PLUGIN_INSTANCE_SOURCE_CONFIG'],
    ]);
    const kms = await rpc(PluginInstanceServiceDesc, 'ListPluginInstances', { service: 'governance', kind: 'PLUGIN_KIND_KMS' });
    // Governance answered (tracking would refuse a call naming another service); kms-local is not built into this program.
    expect(kms).toEqual({ status: 200, body: { instances: [], nextPageToken: '' } });
    const nowhere = await rpc(PluginInstanceServiceDesc, 'ListPluginInstances', { service: 'nowhere', kind: 'PLUGIN_KIND_STORAGE' });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.message).toContain('service must name the platform service that owns the resource, one of governance, tracking, registry');
  });
});
