import 'reflect-metadata';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import { DataServiceDesc, ExperimentServiceDesc, IdentityServiceDesc, RegistryServiceDesc, RunServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from './services';

const ADMIN_KEY = `trellis_00000000000000ad_${'L'.repeat(43)}`;

describe('lineage across tracking, the registry and data in the standalone program', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-lineage-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;
  const tokenFor = async (apiKey: string) => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey })).token;

  beforeAll(async () => {
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS, print: () => undefined });
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers, from a model version through the gateway, which run made it and which dataset version (by tag) that run read', async () => {
    const projectId = (await createGrpcClient(IdentityServiceDesc, address('governance'), { token: await tokenFor(ADMIN_KEY) }).createProject({ name: 'lineage' })).project!.id;
    // A token carries the bindings its exchange found: exchange again to own the new project.
    const as = { token: await tokenFor(ADMIN_KEY) };
    const data = createGrpcClient(DataServiceDesc, address('data'), as);
    const datasetId = (await data.createDataset({ projectId, name: 'churn' })).dataset!.id;
    async function* header() {
      yield { part: { case: 'header' as const, value: { datasetId, message: 'first', tags: ['golden'] } } };
    }
    expect((await data.commitDatasetVersion(header())).version?.version).toBe(1n);

    const experimentId = (await createGrpcClient(ExperimentServiceDesc, address('tracking'), as).createExperiment({ projectId, name: 'train' })).experiment!.id;
    const runs = createGrpcClient(RunServiceDesc, address('tracking'), as);
    const runId = (await runs.createRun({ experimentId, runName: 'fit' })).run!.info!.id;
    await runs.logInputs({
      runId,
      datasets: [{ dataset: { name: 'churn', digest: 'd1', sourceType: 'trellis', source: '{"uri": "datasets:/churn@golden"}' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
    });
    const registry = createGrpcClient(RegistryServiceDesc, address('registry'), as);
    await registry.createModel({ projectId, name: 'churn-model' });
    await registry.createVersion({ projectId, modelName: 'churn-model', source: 's3://bucket/model', runId });

    const gateway = running.edges.find((edge) => edge.name === 'gateway')!;
    const model = `projects/${projectId}/models/churn-model/versions/1`;
    const answer = await eventually(async () => {
      const response = await fetch(`${gateway.address}/v1/trellis.data.v1.LineageService/GetLineage`, {
        method: 'POST',
        body: JSON.stringify({ node: model, direction: 'LINEAGE_DIRECTION_UPSTREAM', depth: 2 }),
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      });
      const body = (await response.json()) as { nodes?: Array<{ name: string; kind: string }> };
      expect(body.nodes?.map((node) => node.name)).toEqual([model, `runs/${runId}`, `datasets/${datasetId}/versions/1`]);
      return body;
    });
    expect(answer.nodes?.map((node) => node.kind)).toEqual(['LINEAGE_NODE_KIND_MODEL_VERSION', 'LINEAGE_NODE_KIND_RUN', 'LINEAGE_NODE_KIND_DATASET_VERSION']);
  });
});
