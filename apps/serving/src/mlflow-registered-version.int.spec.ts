/**
 * @jest-environment ../../plugins/runtime-onnx/test/typed-arrays.environment.js
 */
// onnxruntime-node runs in this process to compute the expected answers: the spec shares the process's typed arrays (see that file).
import 'reflect-metadata';
import { eventually } from '@trellis/testing';
import { join } from 'node:path';
import { CHURN_FEATURES, churnModel, onnxOutputs } from '../test/churn-models';
import { startServingPlatform, type ServingPlatform } from '../test/serving-platform';

const ADMIN_KEY = `trellis_00000000000000d6_${'M'.repeat(43)}`;
const PROJECT = 'mlflow-registered';
const MLFLOW = `/projects/${PROJECT}/api/2.0/mlflow`;
const ROWS = [
  [0.2, 1.5, -0.3, 0.8, 2.1, -1.2, 0.05, 0.9, -0.6, 1.1],
  [1.4, -0.7, 0.6, -1.9, 0.3, 0.75, -0.25, 1.8, 0.4, -1.0],
];
/** The MLmodel file an MLflow flavour writes beside its model file (serving does not read it; it makes the folder one of several files). */
const mlmodel = (flavour: string, file: string) => ['artifact_path: model', 'flavors:', `  ${flavour}:`, `    data: ${file}`, ''].join('\n');

interface JsonRevision {
  id: string;
  modelFormat?: string;
  state: string;
  stateMessage?: string;
}

/**
 * A version registered the way the stock MLflow client does it (`mlflow.register_model`: MLflow's
 * REST model-versions/create with a runs:/ source and no format, the run's model/ folder holding
 * MLmodel beside the model file) is served: serving loads it as its model file's extension says.
 */
describe('a version registered through MLflow, which names no format, served', () => {
  let platform: ServingPlatform;
  let projectId: string;
  let experimentId: string;

  const call = <T>(method: string, body: object) => platform.call<T>(method, body, ADMIN_KEY);
  const mlflow = <T>(path: string, body: object) => platform.post<T>(`${MLFLOW}/${path}`, body, ADMIN_KEY);

  /** A finished run whose `model/` folder holds `files`, logged as the MLflow client logs artifacts (proxied PUTs). */
  const runWithModel = async (files: Record<string, Buffer | string>): Promise<string> => {
    const runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId })).run.info.run_id;
    for (const [name, content] of Object.entries(files)) {
      const response = await platform.http(`/projects/${PROJECT}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/${name}`, ADMIN_KEY, { method: 'PUT', body: content });
      expect(response.status).toBe(200);
    }
    await mlflow('runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
    return runId;
  };

  /** `mlflow.register_model('runs:/<run>/model', 'churn')`: model-versions/create, then model-versions/get until the copy settles. */
  const registerAsMlflowDoes = async (runId: string): Promise<string> => {
    const { model_version: created } = await mlflow<{ model_version: { version: string } }>('model-versions/create', { name: 'churn', source: `runs:/${runId}/model`, run_id: runId });
    await eventually(async () => {
      const response = await platform.http(`${MLFLOW}/model-versions/get?name=churn&version=${created.version}`, ADMIN_KEY);
      expect(((await response.json()) as { model_version: { status: string } }).model_version.status).toBe('READY');
    }, { timeoutMs: 30_000 });
    return created.version;
  };

  /** Deploys `models:/churn/<version>` to a new endpoint; resolves with its revision once its load settled. */
  const deploy = async (endpointName: string, version: string): Promise<JsonRevision> => {
    const { endpoint } = await call<{ endpoint: { id: string } }>('trellis.serving.v1.EndpointService/CreateEndpoint', { projectId, name: endpointName, model: `models:/churn/${version}` });
    return eventually(async () => {
      const [revision] = (await call<{ endpoint: { revisions: JsonRevision[] } }>('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId: endpoint.id })).endpoint.revisions;
      expect(revision.state).not.toBe('REVISION_STATE_PENDING');
      return revision;
    }, { timeoutMs: 30_000 });
  };

  beforeAll(async () => {
    platform = await startServingPlatform('mlflow-registered', ADMIN_KEY);
    projectId = (await call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: PROJECT })).project.id;
    experimentId = (await mlflow<{ experiment_id: string }>('experiments/create', { name: 'train-churn' })).experiment_id;
    await mlflow('registered-models/create', { name: 'churn' });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('loads it as its model.onnx says, answering what onnxruntime computes and naming onnx as its platform', async () => {
    const modelPath = join(platform.dir, 'churn.onnx');
    const runId = await runWithModel({ MLmodel: mlmodel('onnx', 'model.onnx'), 'model.onnx': await churnModel(modelPath), 'requirements.txt': 'onnx\n' });
    const version = await registerAsMlflowDoes(runId);

    const revision = await deploy('churn-mlflow', version);
    // The revision keeps what the registry resolved (no format); what it was loaded as shows in its metadata.
    expect({ state: revision.state, stateMessage: revision.stateMessage ?? '', modelFormat: revision.modelFormat ?? '' }).toEqual({ state: 'REVISION_STATE_READY', stateMessage: '', modelFormat: '' });
    const metadata = await platform.http('/v2/models/churn-mlflow', ADMIN_KEY);
    expect(await metadata.json()).toMatchObject({ name: 'churn-mlflow', platform: 'onnx' });
    const answer = await platform.post<{ outputs: Array<{ name: string; data: number[] }> }>(
      '/v2/models/churn-mlflow/infer',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS.length, CHURN_FEATURES], data: ROWS.flat() }] },
      ADMIN_KEY,
    );
    expect(answer.outputs.map(({ name, data }) => ({ name, data }))).toEqual([{ name: 'y', data: await onnxOutputs(modelPath, ROWS) }]);
  }, 90_000);

  it('fails a version whose model file names a format no runtime instance loads, saying how to register it instead', async () => {
    const runId = await runWithModel({ MLmodel: mlmodel('sklearn', 'model.pkl'), 'model.pkl': Buffer.from('not a model serving loads') });
    const version = await registerAsMlflowDoes(runId);

    const revision = await deploy('churn-pickled', version);
    expect({ state: revision.state, stateMessage: revision.stateMessage }).toEqual({
      state: 'REVISION_STATE_FAILED',
      stateMessage:
        `reading the format of model churn version ${version} failed: the version names no format, and its file model.pkl is not named for a format runtime instance onnx loads (onnx): ` +
        `register the version with its format (the registry's CreateVersion with format "onnx"), or name its model file model.<format> (model.onnx)`,
    });
  }, 90_000);
});
