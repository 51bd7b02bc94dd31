import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { ApprovalServiceDesc, IdentityServiceDesc, RegistryServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { trackingService } from '@trellis/tracking';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PythonClient, startMlflowStack, type Json, type MlflowStack } from './mlflow-python-client';

/**
 * What MLflow's Python client does with the registry (mlflow/tracking/_model_registry/fluent.py,
 * client.py, store/model_registry/rest_store.py and abstract_store.py), over the client's HTTP calls.
 */
class RegistryClient {
  constructor(readonly http: PythonClient) {}

  /**
   * `mlflow.register_model("runs:/<run_id>/<path>", name)` (2.x): create the model, going on past
   * RESOURCE_ALREADY_EXISTS; resolve the runs:/ URI to the run's artifact location (runs/get); create
   * the version with that source and the run id; poll get until it is no longer PENDING_REGISTRATION.
   */
  async registerModel(modelUri: string, name: string, tags: Json = {}): Promise<{ created: number; version: Json }> {
    const created = await this.http.call('POST', '/api/2.0/mlflow/registered-models/create', { name });
    if (created.status !== 200) expect(created.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    let source = modelUri;
    let runId: string | undefined;
    const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(modelUri);
    if (runs) {
      runId = runs[1];
      const { run } = await this.http.ok('GET', 'runs/get', { run_id: runId });
      source = runs[2] ? posix.join(run.info.artifact_uri, runs[2]) : run.info.artifact_uri;
    }
    const { model_version } = await this.http.ok('POST', 'model-versions/create', {
      name,
      source,
      run_id: runId,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    return { created: created.status, version: await this.awaitReady(model_version) };
  }

  /** `_await_model_version_creation`: get the version until it leaves PENDING_REGISTRATION; anything but READY fails. */
  async awaitReady(version: Json): Promise<Json> {
    const deadline = Date.now() + 20_000;
    while (version.status === 'PENDING_REGISTRATION') {
      if (Date.now() > deadline) throw new Error(`version ${version.version} of ${version.name} is still PENDING_REGISTRATION`);
      await sleep(50);
      version = (await this.http.ok('GET', 'model-versions/get', { name: version.name, version: version.version })).model_version;
    }
    if (version.status !== 'READY') throw new Error(`version ${version.version} of ${version.name} is ${version.status}: ${version.status_message}`);
    return version;
  }

  /**
   * `mlflow.artifacts.download_artifacts("models:/<name>/<version>")` through the gateway: the
   * download URI, then as MlflowArtifactsRepository: list each directory, GET each file.
   */
  async downloadVersion(name: string, version: string): Promise<Record<string, string>> {
    const { artifact_uri } = await this.http.ok('GET', 'model-versions/get-download-uri', { name, version });
    const files: Record<string, string> = {};
    const walk = async (dir: string) => {
      const listed = await this.http.listArtifacts(artifact_uri, dir || undefined);
      expect(listed.status).toBe(200);
      for (const entry of listed.body.files as Json[]) {
        const path = dir ? `${dir}/${entry.path}` : entry.path;
        if (entry.is_dir) {
          await walk(path);
        } else {
          const downloaded = await this.http.download(artifact_uri, path);
          expect(downloaded.status).toBe(200);
          expect(downloaded.bytes.length).toBe(entry.file_size);
          files[path] = downloaded.bytes.toString();
        }
      }
    };
    await walk('');
    return files;
  }
}

const MODEL_FILES: Record<string, string> = {
  'MLmodel': 'flavors:\n  python_function: {}\n',
  'model.pkl': 'weights v1',
  'data/vocab.txt': 'a\nb\nc\n',
};

describe("the MLflow model registry REST API, as the Python client calls it", () => {
  let stack: MlflowStack;
  let http: PythonClient;
  let client: RegistryClient;
  let runId: string;
  let otherRunId: string;
  let artifactUri: string;

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, trackingService, registryService]);
    http = stack.client;
    client = new RegistryClient(http);
    const experiment = await http.setExperiment('churn');
    const run = await http.startRun(experiment.experiment_id, { runName: 'train' });
    runId = run.info.run_id;
    artifactUri = run.info.artifact_uri;
    for (const [path, content] of Object.entries(MODEL_FILES)) {
      const dir = posix.dirname(path);
      expect(await http.logArtifact(runId, posix.basename(path), Buffer.from(content), dir === '.' ? 'model' : `model/${dir}`)).toBe(200);
    }
    otherRunId = (await http.startRun(experiment.experiment_id, { runName: 'other' })).info.run_id;
    expect(await http.logArtifact(otherRunId, 'model.pkl', Buffer.from('weights v2'), 'model')).toBe(200);
  });

  afterAll(() => stack?.stop());

  describe('register_model and the versions it makes', () => {
    it('register_model creates the model, then a version from the run\'s artifact location, READY once its files are copied', async () => {
      const started = Date.now();
      const { created, version } = await client.registerModel(`runs:/${runId}/model`, 'churn', { team: 'risk' });
      expect(created).toBe(200);
      // MLflow answers source as the client sent it: the run's artifact location, never a runs:/ URI of its own.
      const source = `${artifactUri}/model`;
      expect(version).toEqual({
        name: 'churn',
        version: '1',
        creation_timestamp: expect.any(Number),
        last_updated_timestamp: expect.any(Number),
        user_id: expect.any(String),
        current_stage: 'None',
        description: '',
        source,
        run_id: runId,
        status: 'READY',
        status_message: '',
        tags: [{ key: 'team', value: 'risk' }],
        run_link: '',
        aliases: [],
      });
      expect(version.creation_timestamp).toBeGreaterThanOrEqual(started);
      await http.ok('POST', 'registered-models/alias', { name: 'churn', alias: 'first', version: '1' });
      const reads = [
        (await http.ok('GET', 'model-versions/get', { name: 'churn', version: '1' })).model_version,
        (await http.ok('GET', 'model-versions/search', { filter: `run_id = '${runId}'` })).model_versions[0],
        (await http.ok('GET', 'registered-models/alias', { name: 'churn', alias: 'first' })).model_version,
        (await http.ok('GET', 'registered-models/get', { name: 'churn' })).registered_model.latest_versions[0],
      ];
      expect(reads.map((read: Json) => read.source)).toEqual([source, source, source, source]);
      expect(await http.ok('DELETE', 'registered-models/alias', { name: 'churn', alias: 'first' })).toEqual({});
    });

    it("refuses a run's artifact location whose experiment is not the run's: its files are elsewhere", async () => {
      const [, experimentId] = /^mlflow-artifacts:\/(\d+)\//.exec(artifactUri)!;
      const elsewhere = artifactUri.replace(`:/${experimentId}/`, `:/${Number(experimentId) + 100}/`);
      const refused = await http.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'churn', source: `${elsewhere}/model`, run_id: runId });
      expect(refused).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(`but run ${runId} is in experiment ${experimentId}`) } });
    });

    it('refuses sources with relative path references in MLflow\'s words, over every scheme, and stores no version', async () => {
      const before = (await http.ok('GET', 'model-versions/search', { filter: "name = 'churn'" })).model_versions.length;
      for (const source of [
        `${artifactUri}/../../other/artifacts/model`,
        'mlflow-artifacts://host:5000/..%2f..%2f..%2fetc',
        'http://host/api/2.0/mlflow-artifacts/artifacts/../../../../',
        'https://host/api/2.0/mlflow-artifacts/artifacts%00',
        's3a://bucket/models/../../secrets',
        'ftp://host/models/%2e%2e/x',
        'dbfs:/models/a/..%252fb',
      ]) {
        const refused = await http.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'churn', source });
        expect([source, refused]).toEqual([
          source,
          {
            status: 400,
            body: {
              error_code: 'INVALID_PARAMETER_VALUE',
              message: `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
            },
          },
        ]);
      }
      expect((await http.ok('GET', 'model-versions/search', { filter: "name = 'churn'" })).model_versions).toHaveLength(before);
    });

    it('register_model again goes on past 400 RESOURCE_ALREADY_EXISTS and makes version 2', async () => {
      const duplicate = await http.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'churn' });
      expect(duplicate).toEqual({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Registered Model (name=churn) already exists.' } });
      const { created, version } = await client.registerModel(`runs:/${otherRunId}/model`, 'churn');
      expect(created).toBe(400);
      expect(version).toMatchObject({ version: '2', run_id: otherRunId, status: 'READY' });
    });

    it('create_model_version takes a runs:/ source with tags and a description, and a URI elsewhere as a reference, READY at once', async () => {
      const { model_version: fromRun } = await http.ok('POST', 'model-versions/create', {
        name: 'churn',
        source: `runs:/${runId}/model`,
        run_id: runId,
        run_link: 'http://example.com/run',
        description: 'from a runs:/ URI',
        tags: [{ key: 'stage', value: 'candidate' }],
      });
      const fields = { source: `runs:/${runId}/model`, run_link: 'http://example.com/run', description: 'from a runs:/ URI', tags: [{ key: 'stage', value: 'candidate' }] };
      expect(fromRun).toMatchObject({ version: '3', ...fields });
      expect((await client.awaitReady(fromRun)).run_link).toBe('http://example.com/run');

      const { model_version: reference } = await http.ok('POST', 'model-versions/create', { name: 'churn', source: 's3://bucket/churn/model' });
      expect(reference).toMatchObject({ version: '4', source: 's3://bucket/churn/model', run_id: '', status: 'READY' });
      expect(await http.ok('GET', 'model-versions/get-download-uri', { name: 'churn', version: '4' })).toEqual({ artifact_uri: 's3://bucket/churn/model' });
    });

    it('answers a version whose files cannot be copied with FAILED_REGISTRATION and the reason', async () => {
      const { model_version } = await http.ok('POST', 'model-versions/create', { name: 'churn', source: `runs:/${runId}/nothing-here`, run_id: runId });
      await expect(client.awaitReady(model_version)).rejects.toThrow(/FAILED_REGISTRATION: .*nothing-here/);
      await http.ok('DELETE', 'model-versions/delete', { name: 'churn', version: model_version.version });
    });

    it("get_registered_model shows the latest version, as MLflow lists one per stage, and the model's tags", async () => {
      await http.ok('POST', 'registered-models/set-tag', { name: 'churn', key: 'owner', value: 'risk-team' });
      const { registered_model } = await http.ok('GET', 'registered-models/get', { name: 'churn' });
      expect(registered_model).toEqual({
        name: 'churn',
        creation_timestamp: expect.any(Number),
        last_updated_timestamp: expect.any(Number),
        user_id: expect.any(String),
        description: '',
        latest_versions: [expect.objectContaining({ name: 'churn', version: '4', current_stage: 'None' })],
        tags: [{ key: 'owner', value: 'risk-team' }],
        aliases: [],
      });
      // get_latest_versions (and models:/churn/latest): POST first; stages other than None hold nothing.
      expect((await http.ok('POST', 'registered-models/get-latest-versions', { name: 'churn' })).model_versions.map((one: Json) => one.version)).toEqual(['4']);
      expect(await http.ok('POST', 'registered-models/get-latest-versions', { name: 'churn', stages: ['Production'] })).toEqual({ model_versions: [] });
      expect((await http.ok('GET', 'registered-models/get-latest-versions', { name: 'churn', stages: ['None'] })).model_versions).toHaveLength(1);
    });

    it('update_registered_model and update_model_version change descriptions (PATCH)', async () => {
      const { registered_model } = await http.ok('PATCH', 'registered-models/update', { name: 'churn', description: 'churn classifier' });
      expect(registered_model.description).toBe('churn classifier');
      const { model_version } = await http.ok('PATCH', 'model-versions/update', { name: 'churn', version: '1', description: 'baseline' });
      expect(model_version).toMatchObject({ version: '1', description: 'baseline' });
    });

    it('sets and deletes tags of models and versions, DELETE carrying a JSON body', async () => {
      expect(await http.ok('POST', 'model-versions/set-tag', { name: 'churn', version: '1', key: 'validated', value: 'yes' })).toEqual({});
      expect((await http.ok('GET', 'model-versions/get', { name: 'churn', version: '1' })).model_version.tags).toEqual([
        { key: 'team', value: 'risk' },
        { key: 'validated', value: 'yes' },
      ]);
      expect(await http.ok('DELETE', 'model-versions/delete-tag', { name: 'churn', version: '1', key: 'validated' })).toEqual({});
      expect(await http.ok('DELETE', 'registered-models/delete-tag', { name: 'churn', key: 'owner' })).toEqual({});
      expect((await http.ok('GET', 'registered-models/get', { name: 'churn' })).registered_model.tags).toEqual([]);
      // As MLflow: deleting a tag that is not there is done; deleting one of a model that is not there is not.
      expect(await http.ok('DELETE', 'registered-models/delete-tag', { name: 'churn', key: 'owner' })).toEqual({});
      expect(await http.ok('DELETE', 'model-versions/delete-tag', { name: 'churn', version: '1', key: 'validated' })).toEqual({});
      const noModel = await http.call('DELETE', '/api/2.0/mlflow/registered-models/delete-tag', { name: 'nope', key: 'owner' });
      expect(noModel).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=nope not found' } });
      const noVersion = await http.call('DELETE', '/api/2.0/mlflow/model-versions/delete-tag', { name: 'churn', version: '99', key: 'validated' });
      expect(noVersion).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=churn, version=99) not found' } });
    });

    it('answers a missing model or version with 404 RESOURCE_DOES_NOT_EXIST', async () => {
      const model = await http.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'nope' });
      expect(model).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=nope not found' } });
      const version = await http.call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'churn', version: '99' });
      expect(version).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=churn, version=99) not found' } });
      const noVersion = await http.call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'churn' });
      expect(noVersion).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'version'") } });
    });
  });

  describe('aliases', () => {
    it('set_registered_model_alias, then get_model_version_by_alias and the model show it', async () => {
      expect(await http.ok('POST', 'registered-models/alias', { name: 'churn', alias: 'champion', version: '1' })).toEqual({});
      const { model_version } = await http.ok('GET', 'registered-models/alias', { name: 'churn', alias: 'champion' });
      expect(model_version).toMatchObject({ name: 'churn', version: '1', aliases: ['champion'], status: 'READY' });
      expect((await http.ok('GET', 'registered-models/get', { name: 'churn' })).registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }]);
      // Moving it is setting it again.
      await http.ok('POST', 'registered-models/alias', { name: 'churn', alias: 'champion', version: '2' });
      expect((await http.ok('GET', 'registered-models/alias', { name: 'churn', alias: 'champion' })).model_version.version).toBe('2');
      await http.ok('POST', 'registered-models/alias', { name: 'churn', alias: 'champion', version: '1' });
    });

    it('refuses the reserved aliases "latest" and v<number>; a missing alias is a bad parameter, as MLflow answers it', async () => {
      for (const alias of ['latest', 'Latest', 'v1']) {
        const refused = await http.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias, version: '1' });
        expect(refused).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('reserved') } });
      }
      const missing = await http.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'nobody' });
      expect(missing).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias nobody not found.' } });
      const ofNoModel = await http.call('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'nope', alias: 'champion' });
      expect(ofNoModel).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias champion not found.' } });
      expect(await http.ok('DELETE', 'registered-models/alias', { name: 'churn', alias: 'nobody' })).toEqual({});
    });

    it('registers models:/<name>@<alias> as a copy of the version the alias points at', async () => {
      await http.ok('POST', 'registered-models/create', { name: 'churn-prod' });
      const { model_version } = await http.ok('POST', 'model-versions/create', { name: 'churn-prod', source: 'models:/churn@champion' });
      expect(model_version).toMatchObject({ name: 'churn-prod', version: '1', source: 'models:/churn@champion' });
      await client.awaitReady(model_version);
      expect(await client.downloadVersion('churn-prod', '1')).toEqual(MODEL_FILES);
    });

    it('a protected alias answers without an approval with what to ask for, and moves with an approval_id', async () => {
      const projectId = await stack.projectId('default');
      // A FieldMask in JSON is its paths in lower camel case, joined by commas.
      await stack.rpc(RegistryServiceDesc, 'UpdateModel', { model: { projectId, name: 'churn', protectedAliases: ['production'] }, updateMask: 'protectedAliases' });
      const refused = await http.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'production', version: '1' });
      expect(refused).toEqual({
        status: 400,
        body: {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringContaining(`is protected: request an approval of registry.alias.set for projects/${projectId}/models/churn/aliases/production with detail version=1 and pass its approval_id`),
        },
      });

      const { approval } = await stack.rpc(ApprovalServiceDesc, 'RequestApproval', { projectId, action: 'registry.alias.set', resource: `projects/${projectId}/models/churn/aliases/production`, details: { version: '1' } });
      const pending = await http.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'production', version: '1', approval_id: approval.id });
      expect(pending).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('still pending') } });

      await stack.rpc(ApprovalServiceDesc, 'Approve', { approvalId: approval.id }, await stack.keyFor('reviewer', 'ROLE_EDITOR'));
      const wrongVersion = await http.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'production', version: '2', approval_id: approval.id });
      expect(wrongVersion).toMatchObject({ status: 403, body: { error_code: 'PERMISSION_DENIED', message: expect.stringContaining('approves version 1') } });
      expect(await http.ok('POST', 'registered-models/alias', { name: 'churn', alias: 'production', version: '1', approval_id: approval.id })).toEqual({});
      const reused = await http.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'production', version: '1', approval_id: approval.id });
      expect(reused).toMatchObject({ status: 400, body: { message: expect.stringContaining('already used') } });
      const deleted = await http.call('DELETE', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'production' });
      expect(deleted).toMatchObject({ status: 400, body: { message: expect.stringContaining('request an approval of registry.alias.delete') } });
    });
  });

  describe('downloading a version through the gateway', () => {
    it('get_model_version_download_uri answers an mlflow-artifacts: URI the client lists and downloads from, file by file', async () => {
      expect(await http.ok('GET', 'model-versions/get-download-uri', { name: 'churn', version: '1' })).toEqual({ artifact_uri: 'mlflow-artifacts:/models/default/churn/1' });
      const root = await http.listArtifacts('mlflow-artifacts:/models/default/churn/1');
      expect(root).toEqual({
        status: 200,
        body: {
          files: [
            { path: 'MLmodel', is_dir: false, file_size: MODEL_FILES.MLmodel.length },
            { path: 'data', is_dir: true },
            { path: 'model.pkl', is_dir: false, file_size: 10 },
          ],
        },
      });
      expect(await client.downloadVersion('churn', '1')).toEqual(MODEL_FILES);
      expect(await client.downloadVersion('churn', '2')).toEqual({ 'model.pkl': 'weights v2' });
    });

    it('downloads models:/<name>@<alias> as ModelsArtifactRepository does: the alias, then the download URI', async () => {
      const { model_version } = await http.ok('GET', 'registered-models/alias', { name: 'churn', alias: 'champion' });
      expect(await client.downloadVersion('churn', model_version.version)).toEqual(MODEL_FILES);
    });

    it("serves the UI's model-versions/get-artifact as an attachment, and lists '.' as the version's root", async () => {
      const response = await fetch(`${stack.base}/model-versions/get-artifact?${new URLSearchParams({ name: 'churn', version: '1', path: 'data/vocab.txt' })}`, { headers: http.authorization });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="vocab.txt"');
      expect(await response.text()).toBe(MODEL_FILES['data/vocab.txt']);
      const climbing = await fetch(`${stack.base}/model-versions/get-artifact?${new URLSearchParams({ name: 'churn', version: '1', path: '../2/model.pkl' })}`, { headers: http.authorization });
      expect(climbing.status).toBe(400);
      expect(await climbing.json()).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });
      const root = await http.listArtifacts('mlflow-artifacts:/models/default/churn/1');
      expect(await http.listArtifacts('mlflow-artifacts:/models/default/churn/1', '.')).toEqual(root);
    });

    it("keeps run artifact paths apart, refuses changes to a version's files, and names a missing file", async () => {
      expect((await http.download(artifactUri, 'model/model.pkl')).bytes.toString()).toBe('weights v1');
      const uri = 'mlflow-artifacts:/models/default/churn/1';
      const put = await fetch(`${http.artifactRepository(uri)}/model.pkl`, { method: 'PUT', headers: http.authorization, body: 'overwritten' });
      expect(put.status).toBe(400);
      expect(await put.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('cannot be changed') });
      expect((await http.download(uri, 'model.pkl')).bytes.toString()).toBe('weights v1');
      const missing = await http.download(uri, 'nope.bin');
      expect(missing.status).toBe(404);
      const reference = await http.download('mlflow-artifacts:/models/default/churn/4', 'x');
      expect(reference.status).toBe(400);
    });
  });

  describe('search', () => {
    beforeAll(async () => {
      for (const name of ['fraud-a', 'fraud-b', 'Fraud-C', 'other_model']) {
        await http.ok('POST', 'registered-models/create', { name, tags: name.startsWith('fraud') ? [{ key: 'team', value: 'fraud' }] : [] });
      }
      await http.ok('POST', 'model-versions/create', { name: 'fraud-a', source: 's3://bucket/a', tags: [{ key: 'flavor', value: 'onnx' }] });
      await http.ok('POST', 'model-versions/create', { name: 'fraud-a', source: 's3://bucket/a2' });
    });

    const names = (page: Json) => (page.registered_models as Json[]).map((model) => model.name);

    it('search_registered_models by name =, LIKE, ILIKE and tags, in name order', async () => {
      expect(names(await http.ok('GET', 'registered-models/search', { filter: "name = 'fraud-a'" }))).toEqual(['fraud-a']);
      expect(names(await http.ok('GET', 'registered-models/search', { filter: "name LIKE 'fraud%'", order_by: ['name ASC'] }))).toEqual(['fraud-a', 'fraud-b']);
      expect(names(await http.ok('GET', 'registered-models/search', { filter: "name ILIKE 'FRAUD%'" }))).toEqual(['Fraud-C', 'fraud-a', 'fraud-b']);
      expect(names(await http.ok('GET', 'registered-models/search', { filter: "tags.team = 'fraud' AND name ILIKE '%-b'" }))).toEqual(['fraud-b']);
      expect(names(await http.ok('GET', 'registered-models/search', { filter: "name = 'other_model'" }))).toEqual(['other_model']);
      const found = await http.ok('GET', 'registered-models/search', { filter: "name = 'fraud-a'" });
      expect(found.registered_models[0].latest_versions.map((one: Json) => one.version)).toEqual(['2']);
      expect(found).not.toHaveProperty('next_page_token');
    });

    it('pages with max_results and page_token, with and without a filter checked in the gateway', async () => {
      const all: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await http.ok('GET', 'registered-models/search', { max_results: 2, page_token: pageToken });
        expect(page.registered_models.length).toBeLessThanOrEqual(2);
        all.push(...names(page));
        pageToken = page.next_page_token;
      } while (pageToken);
      expect(all).toEqual(['Fraud-C', 'churn', 'churn-prod', 'fraud-a', 'fraud-b', 'other_model']);

      const first = await http.ok('GET', 'registered-models/search', { filter: "name ILIKE 'fraud%'", max_results: 2 });
      expect(names(first)).toEqual(['Fraud-C', 'fraud-a']);
      const second = await http.ok('GET', 'registered-models/search', { filter: "name ILIKE 'fraud%'", max_results: 2, page_token: first.next_page_token });
      expect(names(second)).toEqual(['fraud-b']);
      expect(second).not.toHaveProperty('next_page_token');
    });

    it('refuses a filter, order or page size the registry cannot answer, saying why', async () => {
      const or = await http.call('GET', '/api/2.0/mlflow/registered-models/search', { filter: "name = 'a' OR name = 'b'" });
      expect(or).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'filter: expected AND at position 11, found "OR"' } });
      const order = await http.call('GET', '/api/2.0/mlflow/registered-models/search', { order_by: ['last_updated_timestamp DESC'] });
      expect(order).toMatchObject({ status: 400, body: { message: expect.stringContaining('registered models come in one order, name ASC') } });
      const tooMany = await http.call('GET', '/api/2.0/mlflow/registered-models/search', { max_results: 1001 });
      // As MLflow's handler words it: a GET's fields are text.
      expect(tooMany).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/^Invalid value "1001" for parameter 'max_results' supplied: {2}Hint: Value was of type 'str'\./) } });
    });

    it('search_model_versions by name, run_id, run_id IN and tags, newest first, paging past the page size', async () => {
      const versions = (page: Json) => (page.model_versions as Json[]).map((one) => `${one.name}/${one.version}`);
      // The client asks for MLflow's default of 1000 (or more); the registry's pages are at most 1000.
      expect(versions(await http.ok('GET', 'model-versions/search', { filter: "name='churn'", max_results: 200_000 }))).toEqual(['churn/4', 'churn/3', 'churn/2', 'churn/1']);
      expect(versions(await http.ok('GET', 'model-versions/search', { filter: `run_id = '${otherRunId}'` }))).toEqual(['churn/2']);
      expect(versions(await http.ok('GET', 'model-versions/search', { filter: `run_id IN ('${runId}', '${otherRunId}') and name = 'churn'` }))).toEqual([
        'churn/3',
        'churn/2',
        'churn/1',
      ]);
      expect(versions(await http.ok('GET', 'model-versions/search', { filter: "tags.flavor = 'onnx'" }))).toEqual(['fraud-a/1']);
      const first = await http.ok('GET', 'model-versions/search', { filter: "name LIKE 'churn%'", max_results: 3 });
      expect(versions(first)).toEqual(['churn/4', 'churn/3', 'churn/2']);
      const rest = await http.ok('GET', 'model-versions/search', { filter: "name LIKE 'churn%'", max_results: 3, page_token: first.next_page_token });
      expect(versions(rest)).toEqual(['churn/1', 'churn-prod/1']);
      const bad = await http.call('GET', '/api/2.0/mlflow/model-versions/search', { filter: "source_path = 'x'" });
      expect(bad).toMatchObject({ status: 400, body: { message: expect.stringContaining('"source_path" (position 0)') } });
    });

    it('serves the UI under /ajax-api/2.0', async () => {
      const page = await http.call('GET', '/ajax-api/2.0/mlflow/registered-models/search', { filter: "name ilike '%fraud%'", max_results: 10, order_by: ['name ASC'] });
      expect(page.status).toBe(200);
      expect(names(page.body)).toEqual(['Fraud-C', 'fraud-a', 'fraud-b']);
    });
  });

  describe('stages, renames and deletes', () => {
    it('transition_model_version_stage answers 400 pointing at aliases; stage "None" is where every version is', async () => {
      const refused = await http.call('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'churn', version: '1', stage: 'Production', archive_existing_versions: false });
      expect(refused).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/stages are not supported.*alias/) } });
      const none = await http.ok('POST', 'model-versions/transition-stage', { name: 'churn', version: '1', stage: 'None', archive_existing_versions: false });
      expect(none.model_version).toMatchObject({ version: '1', current_stage: 'None' });
    });

    it('rename_registered_model renames the model; its versions and aliases follow', async () => {
      await http.ok('POST', 'registered-models/create', { name: 'to-rename' });
      await http.ok('POST', 'model-versions/create', { name: 'to-rename', source: 's3://bucket/r' });
      await http.ok('POST', 'registered-models/alias', { name: 'to-rename', alias: 'keep', version: '1' });
      const { registered_model } = await http.ok('POST', 'registered-models/rename', { name: 'to-rename', new_name: 'renamed' });
      expect(registered_model).toMatchObject({ name: 'renamed', aliases: [{ alias: 'keep', version: '1' }], latest_versions: [expect.objectContaining({ name: 'renamed', version: '1' })] });
      expect((await http.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'to-rename' })).status).toBe(404);
      expect((await http.ok('GET', 'registered-models/alias', { name: 'renamed', alias: 'keep' })).model_version.name).toBe('renamed');
      const taken = await http.call('POST', '/api/2.0/mlflow/registered-models/rename', { name: 'renamed', new_name: 'churn' });
      expect(taken).toMatchObject({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS' } });
    });

    it('refuses to delete a version or a model an alias holds, naming the alias; deletes once it is gone', async () => {
      const held = await http.call('DELETE', '/api/2.0/mlflow/model-versions/delete', { name: 'renamed', version: '1' });
      expect(held).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('held by alias keep') } });
      const model = await http.call('DELETE', '/api/2.0/mlflow/registered-models/delete', { name: 'renamed' });
      expect(model).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('keep (version 1)') } });

      expect(await http.ok('DELETE', 'registered-models/alias', { name: 'renamed', alias: 'keep' })).toEqual({});
      expect(await http.ok('DELETE', 'model-versions/delete', { name: 'renamed', version: '1' })).toEqual({});
      expect((await http.call('GET', '/api/2.0/mlflow/model-versions/get', { name: 'renamed', version: '1' })).status).toBe(404);
      expect((await http.ok('GET', 'registered-models/get', { name: 'renamed' })).registered_model.latest_versions).toEqual([]);
      expect(await http.ok('DELETE', 'registered-models/delete', { name: 'renamed' })).toEqual({});
      expect((await http.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'renamed' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    });

    it('shows the highest remaining version as latest once the highest is deleted', async () => {
      await http.ok('POST', 'registered-models/create', { name: 'shrinking' });
      for (const source of ['s3://bucket/1', 's3://bucket/2']) await http.ok('POST', 'model-versions/create', { name: 'shrinking', source });
      await http.ok('DELETE', 'model-versions/delete', { name: 'shrinking', version: '2' });
      const { registered_model } = await http.ok('GET', 'registered-models/get', { name: 'shrinking' });
      expect(registered_model.latest_versions.map((one: Json) => one.version)).toEqual(['1']);
    });
  });

  describe('credentials and projects', () => {
    it('answers without credentials with 401, and a viewer who registers with 403', async () => {
      const anonymous = await new PythonClient(stack.base).call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'churn' });
      expect(anonymous).toMatchObject({ status: 401, body: { error_code: 'UNAUTHENTICATED' } });
      const viewer = new PythonClient(stack.base, { token: await stack.keyFor('registry-viewer', 'ROLE_VIEWER') });
      expect((await viewer.ok('GET', 'registered-models/get', { name: 'churn' })).registered_model.name).toBe('churn');
      expect(await new RegistryClient(viewer).downloadVersion('churn', '1')).toEqual(MODEL_FILES);
      for (const [method, endpoint, body] of [
        ['POST', 'registered-models/create', { name: 'viewer-model' }],
        ['POST', 'model-versions/create', { name: 'churn', source: 's3://bucket/v' }],
        ['POST', 'registered-models/alias', { name: 'churn', alias: 'mine', version: '1' }],
      ] as const) {
        expect(await viewer.call(method, `/api/2.0/mlflow/${endpoint}`, body)).toMatchObject({ status: 403, body: { error_code: 'PERMISSION_DENIED' } });
      }
    });

    it('keeps models per project, the project named in the tracking URI, download URIs included', async () => {
      await stack.rpc(IdentityServiceDesc, 'CreateProject', { name: 'research' });
      const { secret } = await stack.rpc(TokenServiceDesc, 'CreateApiKey', { name: 'research-registry' });
      const research = new PythonClient(`${stack.base}/projects/research`, { token: secret });
      const experiment = await research.setExperiment('churn');
      const run = await research.startRun(experiment.experiment_id);
      expect(await research.logArtifact(run.info.run_id, 'model.pkl', Buffer.from('research weights'), 'model')).toBe(200);
      const { version } = await new RegistryClient(research).registerModel(`runs:/${run.info.run_id}/model`, 'churn');
      expect(version).toMatchObject({ name: 'churn', version: '1' });
      expect(await research.ok('GET', 'model-versions/get-download-uri', { name: 'churn', version: '1' })).toEqual({ artifact_uri: 'mlflow-artifacts:/models/research/churn/1' });
      expect(await new RegistryClient(research).downloadVersion('churn', '1')).toEqual({ 'model.pkl': 'research weights' });
      expect((await http.ok('GET', 'registered-models/get', { name: 'churn' })).registered_model.latest_versions[0].version).toBe('4');
      // A run of another project is not registered here, even by someone who may read both.
      const inDefault = new PythonClient(stack.base, { token: secret });
      const crossed = await inDefault.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'churn', source: `runs:/${run.info.run_id}/model`, run_id: run.info.run_id });
      expect(crossed).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("not to the model's project") } });
    });
  });
});
