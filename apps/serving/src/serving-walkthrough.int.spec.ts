/**
 * @jest-environment ../../plugins/runtime-onnx/test/typed-arrays.environment.js
 */
// onnxruntime-node runs in this process to compute the expected answers: the spec shares the process's typed arrays (see that file).
import 'reflect-metadata';
import { fromBinary } from '@bufbuild/protobuf';
import type { EventSubscription } from '@trellis/platform';
import { RolloutEventSchema, RolloutStage, type Rollout } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokenChurnModel, CHURN_FEATURES, churnModel, onnxOutputs } from '../test/churn-models';
import { startServingPlatform, type ServingPlatform } from '../test/serving-platform';
import { generateOipStubs, runStockOipClient, type StockClientAnswer } from '../test/stock-oip-client';

const ADMIN_KEY = `trellis_00000000000000d5_${'W'.repeat(43)}`;
const PROJECT = 'walkthrough';
const ROWS = [
  [0.2, 1.5, -0.3, 0.8, 2.1, -1.2, 0.05, 0.9, -0.6, 1.1],
  [1.4, -0.7, 0.6, -1.9, 0.3, 0.75, -0.25, 1.8, 0.4, -1.0],
];
const POLICY = { follow: 'models:/churn@champion', canaryPercent: 25, bakeTimeMs: '3600000', guards: { maxErrorPercent: 5, minRequests: '8' } };

/** The parts of the gateway's JSON answers the spec reads (protobuf JSON: int64 as strings, enums by name). */
interface JsonRevision {
  id: string;
  number: number;
  modelVersion: string;
  state: string;
}
interface JsonEndpoint {
  id: string;
  rolloutPolicy?: typeof POLICY;
  traffic: { targets: Array<{ revisionId: string; percent: number }> };
  revisions: JsonRevision[];
}
interface OipAnswer {
  status: number;
  revision: string | null;
  requestId: string | null;
  body: { model_name?: string; model_version?: string; id?: string; outputs?: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>; error?: string };
}

/**
 * Issue 16's "Done when", as a user does it through the gateway with an API key, on one standalone
 * platform (governance, data, tracking, registry, serving, gateway): a dataset version is pushed,
 * a run that read it logs an ONNX model, which is registered with `@champion` set; one
 * CreateEndpoint call deploys `models:/churn@champion`; a stock Python grpcio client (stubs
 * compiled from the proto now) and a plain HTTP client get what onnxruntime computes; moving
 * `@champion` to a version that fails canaries it and rolls it back by itself; a logged request id
 * is traced back to the dataset version.
 */
describe('issue 16 done: a registered model deployed in one call, called by stock OIP clients, canaried and rolled back by itself, traced to its data', () => {
  let platform: ServingPlatform;
  let projectId: string;
  let runId: string;
  let datasetId: string;
  let experimentId: string;
  let endpoint: JsonEndpoint;
  let expected: number[];
  let pythonRequestId: string;
  let subscription: EventSubscription;
  let onRolledBack!: (rollout: Rollout) => void;
  const rolledBack = new Promise<Rollout>((resolve) => {
    onRolledBack = resolve;
  });

  const call = <T>(method: string, body: object) => platform.call<T>(method, body, ADMIN_KEY);
  const mlflow = <T>(path: string, body: object) => platform.post<T>(`/projects/${PROJECT}/api/2.0/mlflow/${path}`, body, ADMIN_KEY);
  /** Uploads a file to the run's artifacts as an MLflow client does (a proxied PUT). */
  const logArtifact = async (path: string, bytes: Buffer) => {
    const response = await platform.http(`/projects/${PROJECT}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`, ADMIN_KEY, { method: 'PUT', body: bytes });
    expect(response.status).toBe(200);
  };
  const getEndpoint = async () => (await call<{ endpoint: JsonEndpoint }>('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: endpoint.id })).endpoint;
  /** The split as `{ <model version>: percent }`. */
  const shares = async () => {
    const current = await getEndpoint();
    return Object.fromEntries(current.traffic.targets.map((target) => [current.revisions.find((revision) => revision.id === target.revisionId)!.modelVersion, target.percent]));
  };
  /** `POST /v2/models/churn/infer` through the gateway with the API key, as curl or any HTTP client sends it. */
  const inferRest = async (id: string): Promise<OipAnswer> => {
    const response = await platform.http('/v2/models/churn/infer', ADMIN_KEY, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS.length, CHURN_FEATURES], data: ROWS.flat() }] }),
    });
    return { status: response.status, revision: response.headers.get('trellis-revision'), requestId: response.headers.get('trellis-request-id'), body: (await response.json()) as OipAnswer['body'] };
  };

  beforeAll(async () => {
    platform = await startServingPlatform('walkthrough', ADMIN_KEY, { TRELLIS_SERVING_ROLLOUT_INTERVAL_MS: '50' });
    subscription = await platform.process.runtime.bus.subscribe({
      durable: 'serving-walkthrough-spec',
      subject: 'trellis.serving.v1.rollout.rolled_back',
      handler: async (envelope) => onRolledBack(fromBinary(RolloutEventSchema, envelope.payload).rollout!),
    });
  }, 120_000);

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
  });

  it('registers a model from a run that read a dataset version, with @champion set, and deploys models:/churn@champion in one call', async () => {
    projectId = (await call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: PROJECT })).project.id;

    // The data: a CSV pushed as version 1 of dataset churn, as `tar -c . | curl -T -` sends it.
    datasetId = (await call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'churn' })).dataset.id;
    const data = join(platform.dir, 'churn-data');
    mkdirSync(data);
    writeFileSync(join(data, 'train.csv'), ['f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,churned', ...ROWS.map((row, i) => `${row.join(',')},${i % 2}`), ''].join('\n'));
    const pushed = await platform.http(`/v1/data/datasets/${datasetId}/versions?message=first%20cut`, ADMIN_KEY, {
      method: 'POST',
      body: execFileSync('tar', ['-C', data, '-c', '.']),
      headers: { 'content-type': 'application/x-tar' },
    });
    expect({ status: pushed.status, body: await pushed.json() }).toMatchObject({ status: 200, body: { version: { version: '1', reference: 'datasets:/churn/1' } } });

    // Training, over MLflow's REST API: a run that logs the version as its input and the model as an artifact.
    experimentId = (await mlflow<{ experiment_id: string }>('experiments/create', { name: 'train-churn' })).experiment_id;
    runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId, run_name: 'fit' })).run.info.run_id;
    await mlflow('runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset: { name: 'churn', digest: 'v1', source_type: 'trellis', source: 'datasets:/churn/1' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
    });
    const modelPath = join(platform.dir, 'churn.onnx');
    await logArtifact('model/model.onnx', await churnModel(modelPath));
    await mlflow('runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
    expected = await onnxOutputs(modelPath, ROWS);

    // The registry: version 1 from the run's model/ folder, then @champion on it.
    await call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
    await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model`, runId, format: 'onnx' });
    const settled = await call<{ version: { status: string } }>('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version: '1' });
    expect(settled.version.status).toBe('MODEL_VERSION_STATUS_READY');
    await call('trellis.registry.v1.RegistryService/SetAlias', { projectId, modelName: 'churn', alias: 'champion', version: '1' });

    // One call deploys it, following @champion with the rollout policy and logging every request.
    endpoint = (
      await call<{ endpoint: JsonEndpoint }>('trellis.serving.v1.EndpointService/CreateEndpoint', {
        projectId,
        name: 'churn',
        model: 'models:/churn@champion',
        rolloutPolicy: POLICY,
        predictionLogShare: 1,
      })
    ).endpoint;
    expect(endpoint.revisions).toMatchObject([{ number: 1, modelVersion: '1', resolvedAlias: 'champion', runId, state: 'REVISION_STATE_PENDING' }]);
    expect(endpoint.rolloutPolicy).toMatchObject(POLICY);
    await eventually(async () => expect((await getEndpoint()).revisions[0].state).toBe('REVISION_STATE_READY'), { timeoutMs: 30_000 });
  }, 120_000);

  it("answers a stock Python grpcio client, stubs compiled from the proto now, with onnxruntime's values and its request id", async () => {
    const stubs = join(platform.dir, 'stubs');
    mkdirSync(stubs);
    await generateOipStubs(stubs);
    pythonRequestId = 'python-grpc-1';
    const answer = await runStockOipClient({ stubs, gateway: platform.gateway, apiKey: ADMIN_KEY, address: platform.servingGrpc, model: 'churn', id: pythonRequestId, rows: ROWS });
    expect(answer).toEqual<StockClientAnswer>({
      live: true,
      ready: true,
      metadata: {
        name: 'churn',
        versions: ['1'],
        platform: 'onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, CHURN_FEATURES] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
      },
      infer: {
        model_name: 'churn',
        model_version: '1',
        id: pythonRequestId,
        output: { name: 'y', datatype: 'FP32', shape: [ROWS.length, 2], data: expected },
        revision: endpoint.revisions[0].id,
        request_id: pythonRequestId,
      },
    });
  }, 60_000);

  it("answers a plain HTTP client on the gateway's /v2 with an API key, with the same values and its request id", async () => {
    expect(await inferRest('rest-1')).toEqual<OipAnswer>({
      status: 200,
      revision: endpoint.revisions[0].id,
      requestId: 'rest-1',
      body: { model_name: 'churn', model_version: '1', id: 'rest-1', outputs: [{ name: 'y', datatype: 'FP32', shape: [ROWS.length, 2], data: expected }] },
    });
  });

  it("canaries the version @champion moves to at the policy's percent, and rolls it back by itself when its errors cross the guard", async () => {
    // Version 2 loads, but fails on every request.
    await logArtifact('broken/model.onnx', await brokenChurnModel(join(platform.dir, 'broken.onnx')));
    await call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/broken`, runId, format: 'onnx' });
    await call('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version: '2' });
    await call('trellis.registry.v1.RegistryService/SetAlias', { projectId, modelName: 'churn', alias: 'champion', version: '2' });

    const latest = async () => (await call<{ rollouts: Array<{ stage: string; modelVersion: string }> }>('trellis.serving.v1.RolloutService/ListRollouts', { endpointId: endpoint.id })).rollouts[0];
    await eventually(async () => expect(await latest()).toMatchObject({ stage: 'ROLLOUT_STAGE_CANARY', modelVersion: '2' }), { timeoutMs: 30_000 });
    expect(await shares()).toEqual({ '1': 75, '2': 25 });
    const canary = (await getEndpoint()).revisions.find((revision) => revision.modelVersion === '2')!;

    // Requests flow until the canary has answered the guard's minimum; the rollback needs no call.
    const decided: { rollout?: Rollout } = {};
    void rolledBack.then((rollout) => (decided.rollout = rollout));
    const answers: OipAnswer[] = [];
    for (let i = 0; !decided.rollout && i < 1000; i++) answers.push(await inferRest(`canary-${i}`));
    // The canary's requests fail as its model fails (500, naming the canary in the headers and the message), until the guard has seen its minimum of them.
    const failed = answers.map((answer, index) => ({ ...answer, sent: `canary-${index}` })).filter((answer) => answer.status !== 200);
    const message = new RegExp(`^revision ${canary.number} \\(${canary.id}\\) of model churn failed on this request: Non-zero status code returned while running Gather node`);
    expect(failed).toEqual(failed.map(({ sent }) => ({ status: 500, revision: canary.id, requestId: sent, sent, body: { error: expect.stringMatching(message) } })));
    expect(failed.length).toBeGreaterThanOrEqual(Number(POLICY.guards.minRequests));
    for (const answer of answers.filter((candidate) => candidate.status === 200)) expect(answer).toMatchObject({ revision: endpoint.revisions[0].id, body: { outputs: [{ data: expected }] } });

    expect(decided.rollout).toBeDefined();
    const rollout = decided.rollout!;
    expect(rollout).toMatchObject({ stage: RolloutStage.ROLLED_BACK, modelVersion: 2n });
    expect(rollout.reason).toMatch(/^error rate [0-9.]+% > 5\.0% over [0-9]+ requests$/);
    expect(await latest()).toMatchObject({ stage: 'ROLLOUT_STAGE_ROLLED_BACK', reason: rollout.reason });
    expect(await shares()).toEqual({ '1': 100 });
    expect(await inferRest('after-rollback')).toMatchObject({ status: 200, revision: endpoint.revisions[0].id, body: { model_version: '1', outputs: [{ data: expected }] } });
  }, 60_000);

  it('traces a logged request id to the revision, the model version, the run and the dataset version it was trained on', async () => {
    const trace = await eventually(() => call<Record<string, unknown>>('trellis.serving.v1.PredictionService/TracePrediction', { requestId: pythonRequestId }));
    expect(trace).toMatchObject({
      prediction: { requestId: pythonRequestId, projectId, endpointId: endpoint.id, endpointName: 'churn', revisionId: endpoint.revisions[0].id },
      revisionNumber: 1,
      modelName: 'churn',
      modelVersion: '1',
      runId,
      datasets: [{ name: 'churn', sourceType: 'trellis', source: 'datasets:/churn/1', context: 'training' }],
    });
    const { source } = (trace.datasets as Array<{ source: string }>)[0];
    const { version } = await call<{ version: { datasetId: string; version: string } }>('trellis.data.v1.DataService/ResolveDatasetReference', { projectId, reference: source });
    expect(version).toMatchObject({ datasetId, version: '1' });
    const { files } = await call<{ files: Array<{ path: string }> }>('trellis.data.v1.DataService/ListDatasetVersionFiles', { datasetId, version: version.version });
    expect(files.map((file) => file.path)).toEqual(['train.csv']);
  });
});
