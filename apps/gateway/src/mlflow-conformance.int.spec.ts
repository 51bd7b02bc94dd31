import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { trackingService } from '@trellis/tracking';
import { ADMIN_KEY, PythonClient, startMlflowStack, type Json, type MlflowStack } from './mlflow-python-client';

describe('the MLflow REST API, as the Python client calls it', () => {
  let stack: MlflowStack;
  let base: string;
  let client: PythonClient;

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, trackingService]);
    ({ base, client } = stack);
  });

  afterAll(() => stack?.stop());

  describe('a training script: set_experiment, start_run, log, end_run', () => {
    let experiment: Json;
    let run: Json;

    it('set_experiment creates the experiment after get-by-name answers 404 RESOURCE_DOES_NOT_EXIST, then reads it', async () => {
      experiment = await client.setExperiment('churn');
      expect(experiment).toEqual({
        experiment_id: expect.stringMatching(/^[1-9]\d*$/),
        name: 'churn',
        artifact_location: `mlflow-artifacts:/${experiment.experiment_id}`,
        lifecycle_stage: 'active',
        creation_time: expect.any(Number),
        last_update_time: expect.any(Number),
        tags: [],
      });
      // A second set_experiment finds it by name.
      expect(await client.setExperiment('churn')).toEqual(experiment);
    });

    it('answers a duplicate experiment with 400 RESOURCE_ALREADY_EXISTS', async () => {
      const again = await client.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'churn' });
      expect(again.status).toBe(400);
      expect(again.body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Experiment(name=churn) already exists.' });
    });

    it('start_run creates a run with its name, start time and the client\'s context tags', async () => {
      const started = Date.now();
      run = await client.startRun(experiment.experiment_id, { runName: 'baseline' });
      const runId = run.info.run_id as string;
      expect(run.info).toEqual({
        run_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        run_uuid: runId,
        run_name: 'baseline',
        experiment_id: experiment.experiment_id,
        user_id: 'alice',
        status: 'RUNNING',
        start_time: expect.any(Number),
        artifact_uri: `mlflow-artifacts:/${experiment.experiment_id}/${runId}/artifacts`,
        lifecycle_stage: 'active',
      });
      expect(run.info.start_time).toBeGreaterThanOrEqual(started);
      expect(run.info).not.toHaveProperty('end_time');
      expect(run.data.tags).toEqual(
        expect.arrayContaining([
          { key: 'mlflow.user', value: 'alice' },
          { key: 'mlflow.source.name', value: 'train.py' },
          { key: 'mlflow.source.type', value: 'LOCAL' },
          { key: 'mlflow.runName', value: 'baseline' },
        ]),
      );
      expect(run).toMatchObject({ data: { metrics: [], params: [] }, inputs: { dataset_inputs: [] } });
    });

    it('runs/create echoes the user_id sent, "" when none is, whatever the caller and the mlflow.user tag', async () => {
      const { experiment_id } = await client.setExperiment('run-fields');
      const create = (fields: Json) => client.ok('POST', 'runs/create', { experiment_id, start_time: Date.now(), ...fields });
      expect((await create({ user_id: 'bob', tags: [{ key: 'mlflow.user', value: 'alice' }] })).run.info.user_id).toBe('bob');
      const { run: anonymous } = await create({ tags: [{ key: 'mlflow.user', value: 'alice' }] });
      expect(anonymous.info.user_id).toBe('');
      expect((await client.ok('GET', 'runs/get', { run_id: anonymous.info.run_id })).run.info.user_id).toBe('');
    });

    it('runs/create keeps an mlflow.parentRunId tag naming no run, as MLflow keeps it, and refuses a run_name the mlflow.runName tag contradicts', async () => {
      const { experiment_id } = await client.setExperiment('run-fields');
      const ghost = 'f'.repeat(32);
      const { run: orphan } = await client.ok('POST', 'runs/create', { experiment_id, tags: [{ key: 'mlflow.parentRunId', value: ghost }] });
      expect(orphan.data.tags).toContainEqual({ key: 'mlflow.parentRunId', value: ghost });
      expect((await client.ok('POST', 'runs/search', { experiment_ids: [experiment_id], filter: `tags.mlflow.parentRunId = '${ghost}'` })).runs).toHaveLength(1);
      const contradicted = await client.call('POST', '/api/2.0/mlflow/runs/create', { experiment_id, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] });
      expect(contradicted).toEqual({
        status: 400,
        body: {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').",
        },
      });
    });

    it('log_param, log_metric (with and without step), set_tag, and their batch forms', async () => {
      const runId = run.info.run_id as string;
      const now = Date.now();
      expect(await client.ok('POST', 'runs/log-parameter', { run_id: runId, run_uuid: runId, key: 'lr', value: '0.1' })).toEqual({});
      expect(await client.ok('POST', 'runs/log-metric', { run_id: runId, run_uuid: runId, key: 'loss', value: 0.9, timestamp: now, step: 0 })).toEqual({});
      expect(await client.ok('POST', 'runs/log-metric', { run_id: runId, run_uuid: runId, key: 'loss', value: 0.5, timestamp: now + 1, step: 1 })).toEqual({});
      expect(await client.ok('POST', 'runs/log-metric', { run_id: runId, run_uuid: runId, key: 'acc', value: 0.75, timestamp: now })).toEqual({});
      expect(await client.ok('POST', 'runs/log-metric', { run_id: runId, key: 'grad_norm', value: 'NaN', timestamp: now })).toEqual({});
      expect(await client.ok('POST', 'runs/set-tag', { run_id: runId, run_uuid: runId, key: 'team', value: 'growth' })).toEqual({});
      expect(
        await client.ok('POST', 'runs/log-batch', {
          run_id: runId,
          metrics: [
            { key: 'loss', value: 0.25, timestamp: now + 2, step: 2 },
            { key: 'val_loss', value: 'Infinity', timestamp: now + 2, step: 2 },
          ],
          params: [
            { key: 'epochs', value: '3' },
            { key: 'optimizer', value: 'adam' },
          ],
          tags: [{ key: 'stage', value: 'dev' }],
        }),
      ).toEqual({});
      // Logging a param again with the same value is idempotent.
      expect(await client.ok('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).toEqual({});
    });

    it('log_input records a dataset with its context tag', async () => {
      const runId = run.info.run_id as string;
      const dataset = {
        name: 'churn-train',
        digest: 'a1b2c3d4',
        source_type: 'local',
        source: '{"uri": "/data/churn.parquet"}',
        schema: '{"mlflow_colspec": [{"type": "double", "name": "tenure"}]}',
        profile: '{"num_rows": 1000}',
      };
      expect(await client.ok('POST', 'runs/log-inputs', { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] })).toEqual({});
      const { run: read } = await client.ok('GET', 'runs/get', { run_uuid: runId, run_id: runId });
      expect(read.inputs).toEqual({ dataset_inputs: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] });
    });

    it('runs/get returns the latest value of each metric, the params and the tags, with numbers as numbers', async () => {
      const { run: read } = await client.ok('GET', 'runs/get', { run_uuid: run.info.run_id, run_id: run.info.run_id });
      const byKey = Object.fromEntries((read.data.metrics as Json[]).map((metric) => [metric.key, metric]));
      expect(byKey.loss).toEqual({ key: 'loss', value: 0.25, timestamp: expect.any(Number), step: 2 });
      expect(byKey.acc).toMatchObject({ value: 0.75, step: 0 });
      expect(byKey.grad_norm).toMatchObject({ value: 'NaN' });
      expect(byKey.val_loss).toMatchObject({ value: 'Infinity' });
      expect(read.data.params).toEqual(
        expect.arrayContaining([
          { key: 'lr', value: '0.1' },
          { key: 'epochs', value: '3' },
          { key: 'optimizer', value: 'adam' },
        ]),
      );
      expect(read.data.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'growth' }, { key: 'stage', value: 'dev' }]));
    });

    it('refuses a param overwrite with 400 INVALID_PARAMETER_VALUE naming the param', async () => {
      const overwrite = await client.call('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: run.info.run_id, key: 'lr', value: '0.2' });
      expect(overwrite.status).toBe(400);
      expect(overwrite.body).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${run.info.run_id}'. Attempted logging new value '0.2'.`,
      });
    });

    it('log_artifact PUTs to the URL the client derives from artifact_uri; both listings and the download agree', async () => {
      const runId = run.info.run_id as string;
      expect(await client.logArtifact(runId, 'model.txt', Buffer.from('weights v1'), 'model')).toBe(200);
      expect(await client.logArtifact(runId, 'notes.md', Buffer.from('# notes'))).toBe(200);
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      expect(await client.logArtifact(runId, 'big.bin', big, 'model')).toBe(200);
      const artifactUri = run.info.artifact_uri as string;

      const root = await client.listArtifacts(artifactUri);
      expect(root).toEqual({ status: 200, body: { files: [{ path: 'model', is_dir: true }, { path: 'notes.md', is_dir: false, file_size: 7 }] } });
      const model = await client.listArtifacts(artifactUri, 'model');
      expect(model.body).toEqual({
        files: [
          { path: 'big.bin', is_dir: false, file_size: big.length },
          { path: 'model.txt', is_dir: false, file_size: 10 },
        ],
      });
      // A file listed as a directory lists nothing, as MLflow's does.
      expect((await client.listArtifacts(artifactUri, 'notes.md')).body).toEqual({ files: [] });
      // download_artifacts(artifact_path=".") lists <root>/.: the root.
      expect(await client.listArtifacts(artifactUri, '.')).toEqual(root);
      expect(await client.listArtifacts(artifactUri, './model/.')).toEqual(model);
      expect(await client.listArtifacts(artifactUri, 'model/../..')).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' } });

      // The UI's get-artifact: the file as an attachment.
      const shown = await fetch(`${base}/get-artifact?${new URLSearchParams({ run_id: runId, path: 'model/model.txt' })}`, { headers: client.authorization });
      expect(shown.status).toBe(200);
      expect(shown.headers.get('content-disposition')).toBe('attachment; filename="model.txt"');
      expect(shown.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await shown.text()).toBe('weights v1');

      const tracked = await client.ok('GET', 'artifacts/list', { run_id: runId, path: 'model' });
      expect(tracked).toEqual({
        root_uri: artifactUri,
        files: [
          { path: 'model/big.bin', is_dir: false, file_size: big.length },
          { path: 'model/model.txt', is_dir: false, file_size: 10 },
        ],
      });

      const downloaded = await client.download(artifactUri, 'model/big.bin');
      expect(downloaded.status).toBe(200);
      expect(downloaded.bytes.equals(big)).toBe(true);
      expect((await client.download(artifactUri, 'model/model.txt')).bytes.toString()).toBe('weights v1');

      const missing = await fetch(`${client.artifactRepository(artifactUri)}/model/nope.txt`, { headers: client.authorization });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });

      const [, experimentId] = /^mlflow-artifacts:\/(\d+)\//.exec(artifactUri)!;
      const toMissingRun = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${'0'.repeat(32)}/artifacts/x.txt`, {
        method: 'PUT',
        headers: client.authorization,
        body: 'lost',
      });
      expect(toMissingRun.status).toBe(404);
      expect(await toMissingRun.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });

      const deleted = await fetch(`${client.artifactRepository(artifactUri)}/notes.md`, { method: 'DELETE', headers: client.authorization });
      expect(deleted.status).toBe(200);
      expect((await client.listArtifacts(artifactUri)).body).toEqual({ files: [{ path: 'model', is_dir: true }] });
    });

    it('answers a multipart upload request as MLflow without multipart support, so the client falls back to one PUT', async () => {
      const [root, tail] = client.artifactRepository(run.info.artifact_uri).split('/mlflow-artifacts/artifacts');
      const response = await fetch(`${root}/mlflow-artifacts/mpu/create/${tail.replace(/^\//, '')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...client.authorization },
        body: JSON.stringify({ path: 'big.bin', num_parts: 2 }),
      });
      expect(response.status).toBe(501);
      expect(((await response.json()) as Json).message).toMatch(/^Multipart upload is not supported for the current artifact repository/);
    });

    it('end_run finishes the run with its end time', async () => {
      const endTime = Date.now();
      const { run_info } = await client.ok('POST', 'runs/update', { run_id: run.info.run_id, run_uuid: run.info.run_id, status: 'FINISHED', end_time: endTime });
      expect(run_info).toMatchObject({ run_id: run.info.run_id, status: 'FINISHED', end_time: endTime, start_time: run.info.start_time });
    });

    it('renames runs and experiments, and answers an update that changes nothing with the run as it is', async () => {
      const { experiment_id } = await client.setExperiment('to-rename');
      const started = await client.startRun(experiment_id, { runName: 'before' });
      const unchanged = await client.ok('POST', 'runs/update', { run_id: started.info.run_id, end_time: 0, run_name: '' });
      expect(unchanged).toEqual({ run_info: started.info });
      const { run_info } = await client.ok('POST', 'runs/update', { run_id: started.info.run_id, run_name: 'after' });
      expect(run_info).toEqual({ ...started.info, run_name: 'after' });
      await client.ok('POST', 'experiments/update', { experiment_id, new_name: 'renamed' });
      expect((await client.ok('GET', 'experiments/get', { experiment_id })).experiment).toMatchObject({ experiment_id, name: 'renamed' });
    });

    it('nests a run through the mlflow.parentRunId tag, and search_runs finds runs by filter in the asked order', async () => {
      const child = await client.startRun(experiment.experiment_id, { runName: 'child', tags: { 'mlflow.parentRunId': run.info.run_id } });
      await client.ok('POST', 'runs/log-batch', { run_id: child.info.run_id, metrics: [{ key: 'acc', value: 0.9, timestamp: Date.now(), step: 0 }], params: [{ key: 'lr', value: '0.1' }] });
      const other = await client.startRun(experiment.experiment_id, { runName: 'other' });
      await client.ok('POST', 'runs/log-batch', { run_id: other.info.run_id, metrics: [{ key: 'acc', value: 0.95, timestamp: Date.now() }], params: [{ key: 'lr', value: '0.3' }] });

      const found = await client.ok('POST', 'runs/search', {
        experiment_ids: [experiment.experiment_id],
        filter: "metrics.acc > 0.5 and params.lr = '0.1'",
        run_view_type: 'ACTIVE_ONLY',
        max_results: 1000,
        order_by: ['metrics.acc DESC'],
      });
      expect(found.runs.map((one: Json) => one.info.run_name)).toEqual(['child', 'baseline']);
      expect(found).not.toHaveProperty('next_page_token');

      const nested = await client.ok('POST', 'runs/search', { experiment_ids: [experiment.experiment_id], filter: `tags.mlflow.parentRunId = '${run.info.run_id}'` });
      expect(nested.runs.map((one: Json) => one.info.run_id)).toEqual([child.info.run_id]);

      const paged = await client.ok('POST', 'runs/search', { experiment_ids: [experiment.experiment_id], max_results: 2 });
      expect(paged.runs).toHaveLength(2);
      expect(paged.next_page_token).toEqual(expect.any(String));
      const rest = await client.ok('POST', 'runs/search', { experiment_ids: [experiment.experiment_id], max_results: 2, page_token: paged.next_page_token });
      expect(rest.runs).toHaveLength(1);
    });

    it('answers a bad filter with 400 INVALID_PARAMETER_VALUE naming the position', async () => {
      const bad = await client.call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experiment.experiment_id], filter: "metrics.acc > 0.5 or params.lr = '0.1'" });
      expect(bad.status).toBe(400);
      expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(bad.body.message).toMatch(/position 18\b/);
    });

    it('search_experiments finds the experiment by name, POST and GET alike', async () => {
      const posted = await client.ok('POST', 'experiments/search', { filter: "name = 'churn'", max_results: 10, view_type: 'ACTIVE_ONLY' });
      expect(posted.experiments).toEqual([experiment.experiment_id].map((id) => expect.objectContaining({ experiment_id: id, name: 'churn' })));
      const got = await client.ok('GET', 'experiments/search', { filter: "name LIKE 'chu%'", order_by: ['name ASC', 'creation_time DESC'] });
      expect(got.experiments.map((one: Json) => one.name)).toEqual(['churn']);
    });
  });

  describe('metric histories', () => {
    let runIds: string[];

    beforeAll(async () => {
      const experiment = await client.setExperiment('histories');
      runIds = [];
      for (const name of ['a', 'b']) {
        const run = await client.startRun(experiment.experiment_id, { runName: name });
        const metrics = Array.from({ length: 1000 }, (_, step) => ({ key: 'loss', value: step === 500 ? 'NaN' : 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step }));
        await client.ok('POST', 'runs/log-batch', { run_id: run.info.run_id, metrics });
        runIds.push(run.info.run_id);
      }
    });

    it('get-history without max_results returns every point in logged order, numbers as numbers and NaN as "NaN"', async () => {
      const { metrics } = await client.ok('GET', 'metrics/get-history', { run_uuid: runIds[0], run_id: runIds[0], metric_key: 'loss' });
      expect(metrics).toHaveLength(1000);
      expect(metrics[0]).toEqual({ key: 'loss', value: 1, timestamp: 1_700_000_000_000, step: 0 });
      expect(metrics[500]).toEqual({ key: 'loss', value: 'NaN', timestamp: 1_700_000_000_500, step: 500 });
      expect(metrics.map((metric: Json) => metric.step)).toEqual(Array.from({ length: 1000 }, (_, step) => step));
    });

    it('get-history streams a history longer than one upstream chunk as one JSON document', async () => {
      for (let batch = 0; batch < 12; batch++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'long', value: batch * 1000 + i, timestamp: 1_700_000_000_000, step: batch * 1000 + i }));
        await client.ok('POST', 'runs/log-batch', { run_id: runIds[1], metrics });
      }
      const { metrics } = await client.ok('GET', 'metrics/get-history', { run_id: runIds[1], metric_key: 'long' });
      expect(metrics.map((metric: Json) => metric.value)).toEqual(Array.from({ length: 12_000 }, (_, i) => i));
    });

    it('get-history pages with max_results and page_token', async () => {
      const first = await client.ok('GET', 'metrics/get-history', { run_id: runIds[0], metric_key: 'loss', max_results: 600 });
      expect(first.metrics).toHaveLength(600);
      expect(first.next_page_token).toEqual(expect.any(String));
      const second = await client.ok('GET', 'metrics/get-history', { run_id: runIds[0], metric_key: 'loss', max_results: 600, page_token: first.next_page_token });
      expect(second.metrics.map((metric: Json) => metric.step)).toEqual(Array.from({ length: 400 }, (_, i) => 600 + i));
      expect(second).not.toHaveProperty('next_page_token');
    });

    it('get-history of a metric never logged is empty, of a missing run 404', async () => {
      expect(await client.ok('GET', 'metrics/get-history', { run_id: runIds[0], metric_key: 'nothing' })).toEqual({ metrics: [] });
      const missing = await client.call('GET', '/api/2.0/mlflow/metrics/get-history', { run_id: 'f'.repeat(32), metric_key: 'loss' });
      expect(missing).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    });

    it("get-history-bulk (the UI's) returns every run's full history with run_id, up to max_results in all", async () => {
      const { metrics } = await client.ok('GET', 'metrics/get-history-bulk', { run_id: runIds, metric_key: 'loss' });
      for (const runId of runIds) expect((metrics as Json[]).filter((metric) => metric.run_id === runId)).toHaveLength(1000);
      expect((metrics as Json[])[0]).toEqual({ key: 'loss', value: 1, timestamp: 1_700_000_000_000, step: 0, run_id: [...runIds].sort()[0] });
      const capped = await client.ok('GET', 'metrics/get-history-bulk', { run_id: runIds, metric_key: 'loss', max_results: 1500 });
      expect(capped.metrics).toHaveLength(1500);
      expect(new Set((capped.metrics as Json[]).map((metric) => metric.run_id))).toEqual(new Set(runIds.slice(0, 2)));
    });

    it('get-history-bulk-interval samples each run over the step range, run by run in step order, with run_id', async () => {
      const { metrics } = await client.ok('GET', 'metrics/get-history-bulk-interval', { run_ids: runIds, metric_key: 'loss', start_step: 100, end_step: 899, max_results: 50 });
      for (const runId of runIds) {
        const points = (metrics as Json[]).filter((metric) => metric.run_id === runId);
        // About max_results points: the lowest and highest value of each bucket, and the range's first and last.
        expect(points.length).toBeGreaterThanOrEqual(25);
        expect(points.length).toBeLessThanOrEqual(102);
        const steps = points.map((point) => point.step as number);
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
        expect(steps[0]).toBe(100);
        expect(steps.at(-1)).toBe(899);
        expect(points[0]).toEqual({ key: 'loss', value: 1 / 101, timestamp: 1_700_000_000_100, step: 100, run_id: runId });
      }
      expect((metrics as Json[]).map((metric) => metric.run_id)).toEqual([...(metrics as Json[])].map((metric) => metric.run_id).sort((a, b) => runIds.indexOf(a) - runIds.indexOf(b)));
      const oneSided = await client.call('GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval', { run_ids: runIds, metric_key: 'loss', start_step: 3 });
      expect(oneSided).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    });
  });

  describe('errors', () => {
    let runId: string;

    beforeAll(async () => {
      const experiment = await client.setExperiment('errors');
      runId = (await client.startRun(experiment.experiment_id)).info.run_id;
    });

    it('answers a missing run with 404 RESOURCE_DOES_NOT_EXIST', async () => {
      const missing = await client.call('GET', '/api/2.0/mlflow/runs/get', { run_id: '0'.repeat(32) });
      expect(missing).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run with id=${'0'.repeat(32)} not found` } });
    });

    it("words its errors as MLflow's server does where MLflow's status and error_code are the same", async () => {
      const expectError = async (method: string, endpoint: string, fields: Json, status: number, error_code: string, message: string | RegExp) => {
        const answer = await client.call(method, `/api/2.0/mlflow/${endpoint}`, fields);
        expect([endpoint, answer]).toEqual([endpoint, { status, body: { error_code, message: typeof message === 'string' ? message : expect.stringMatching(message) } }]);
      };
      const bad = 'INVALID_PARAMETER_VALUE';
      await expectError('POST', 'runs/log-metric', { run_id: runId, key: 'loss', value: 1, timestamp: 1, step: 'foo' }, 400, bad, /^Invalid value "foo" for parameter 'step' supplied/);
      await expectError('POST', 'runs/search', { experiment_ids: ['0'], max_results: 123456789 }, 400, bad, /^Invalid value 123456789 for parameter 'max_results' supplied/);
      await expectError('POST', 'runs/delete-tag', { run_id: runId, key: 'never' }, 404, 'RESOURCE_DOES_NOT_EXIST', `No tag with name: never in run with id ${runId}`);
      await expectError('GET', 'experiments/get', { experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'No Experiment with id=999999 exists');
      await expectError('GET', 'experiments/get-by-name', { experiment_name: 'nowhere' }, 404, 'RESOURCE_DOES_NOT_EXIST', "Could not find experiment with name 'nowhere'");
      await expectError('POST', 'runs/log-inputs', { run_id: runId }, 400, bad, "Missing value for required parameter 'datasets'. See the API docs for more information about request parameters.");
      await expectError('POST', 'experiments/create', { name: 'typed', artifact_location: 12 }, 400, bad, /^Invalid value 12 for parameter 'artifact_location' supplied/);
      await expectError('GET', 'artifacts/list', { run_id: runId, path: '../other' }, 400, bad, 'Invalid path');

      const deleted = (await client.startRun((await client.setExperiment('errors')).experiment_id)).info.run_id;
      await client.ok('POST', 'runs/delete', { run_id: deleted });
      await expectError('POST', 'runs/set-tag', { run_id: deleted, key: 'k', value: 'v' }, 400, bad, `The run ${deleted} must be in the 'active' state. Current state is deleted.`);
      await expectError('POST', 'runs/update', { run_id: deleted, status: 'FINISHED' }, 400, bad, `The run ${deleted} must be in the 'active' state. Current state is deleted.`);
      await expectError('POST', 'runs/update', { run_id: deleted }, 400, bad, `The run ${deleted} must be in the 'active' state. Current state is deleted.`);

      const { experiment_id: gone } = await client.setExperiment('deleted-experiment');
      await client.ok('POST', 'experiments/delete', { experiment_id: gone });
      const inactive = `The experiment ${gone} must be in the 'active' state. Current state is deleted.`;
      await expectError('POST', 'runs/create', { experiment_id: gone }, 400, bad, inactive);
      await expectError('POST', 'experiments/set-experiment-tag', { experiment_id: gone, key: 'k', value: 'v' }, 400, bad, inactive);
    });

    it('refuses a batch over the limits with 400 naming the limit, and stores none of it', async () => {
      const metrics = Array.from({ length: 1001 }, (_, step) => ({ key: 'over', value: step, timestamp: 1, step }));
      const over = await client.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics, params: [{ key: 'kept', value: 'no' }] });
      expect(over.status).toBe(400);
      expect(over.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('1000') });

      const huge = await client.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: [{ key: 'blob', value: 'x'.repeat(1_000_001) }] });
      expect(huge.status).toBe(400);
      expect(huge.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('1000000 bytes') });

      expect(await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'over' })).toEqual({ metrics: [] });
      const { run } = await client.ok('GET', 'runs/get', { run_id: runId });
      expect(run.data.params).toEqual([]);
    });

    it('names a missing required field', async () => {
      const noTimestamp = await client.call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 1 });
      expect(noTimestamp).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'timestamp'") } });
      const badValue = await client.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics: [{ key: 'loss', value: true, timestamp: 1 }] });
      expect(badValue).toEqual({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'metrics[0].value'") } });
      const noName = await client.call('POST', '/api/2.0/mlflow/experiments/create', {});
      expect(noName.body.message).toContain("'name'");
    });

    it('answers an unknown endpoint with 404 ENDPOINT_NOT_FOUND, and a known one with the wrong method with 405', async () => {
      const unknown = await client.call('POST', '/api/2.0/mlflow/runs/fly', {});
      expect(unknown).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
      for (const path of ['/graphql', '/projects/default/graphql']) {
        expect(await client.call('POST', path, { query: '{ test }' })).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
      }
      const wrongMethod = await client.call('GET', '/api/2.0/mlflow/runs/log-batch');
      expect(wrongMethod.status).toBe(405);
    });

    it('answers a request without credentials with 401, and a viewer who logs with 403', async () => {
      const anonymous = await new PythonClient(base).call('GET', '/api/2.0/mlflow/runs/get', { run_id: runId });
      expect(anonymous).toMatchObject({ status: 401, body: { error_code: 'UNAUTHENTICATED' } });

      const secret = await stack.keyFor('dashboard', 'ROLE_VIEWER');

      const viewer = new PythonClient(base, { username: 'dashboard', password: secret });
      expect((await viewer.ok('GET', 'runs/get', { run_id: runId })).run.info.run_id).toBe(runId);
      const logged = await viewer.call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 1, timestamp: 1 });
      expect(logged).toMatchObject({ status: 403, body: { error_code: 'PERMISSION_DENIED' } });
    });
  });

  describe('Basic auth, experiment "0" and project selection', () => {
    it('works with the API key as the Basic password (MLFLOW_TRACKING_USERNAME and _PASSWORD)', async () => {
      const basic = new PythonClient(base, { username: 'admin', password: ADMIN_KEY });
      const experiment = await basic.setExperiment('basic-auth');
      const run = await basic.startRun(experiment.experiment_id);
      expect(await basic.ok('POST', 'runs/log-metric', { run_id: run.info.run_id, key: 'x', value: 1, timestamp: Date.now() })).toEqual({});
    });

    it('treats experiment "0" as the project\'s Default experiment, answering with its real id', async () => {
      const run = await client.startRun('0');
      const { experiment } = await client.ok('GET', 'experiments/get', { experiment_id: '0' });
      expect(experiment).toMatchObject({ name: 'Default', lifecycle_stage: 'active', experiment_id: expect.stringMatching(/^[1-9]\d*$/) });
      expect(run.info.experiment_id).toBe(experiment.experiment_id);
      const { runs } = await client.ok('POST', 'runs/search', { experiment_ids: ['0'] });
      expect(runs.map((one: Json) => one.info.run_id)).toContain(run.info.run_id);
    });

    it('selects the project named in the tracking URI path, for names, searches, "0" and artifacts', async () => {
      await stack.rpc(IdentityServiceDesc, 'CreateProject', { name: 'research' });
      // A token carries the bindings of its exchange: a key exchanged before the project existed does not reach it until its token is renewed.
      const { secret } = await stack.rpc(TokenServiceDesc, 'CreateApiKey', { name: 'research' });
      const research = new PythonClient(`${base}/projects/research`, { token: secret });
      const churnInDefault = await client.setExperiment('churn');
      const churnInResearch = await research.setExperiment('churn');
      expect(churnInResearch.experiment_id).not.toBe(churnInDefault.experiment_id);
      const { experiments } = await research.ok('POST', 'experiments/search', {});
      expect(experiments.map((one: Json) => one.name)).toEqual(['churn']);

      const defaultInResearch = (await research.ok('GET', 'experiments/get', { experiment_id: '0' })).experiment;
      const defaultInDefault = (await client.ok('GET', 'experiments/get', { experiment_id: '0' })).experiment;
      expect(defaultInResearch.experiment_id).not.toBe(defaultInDefault.experiment_id);

      const run = await research.startRun(churnInResearch.experiment_id);
      expect(await research.logArtifact(run.info.run_id, 'report.txt', Buffer.from('done'))).toBe(200);
      expect(research.artifactRepository(run.info.artifact_uri)).toBe(`${base}/projects/research/api/2.0/mlflow-artifacts/artifacts/${churnInResearch.experiment_id}/${run.info.run_id}/artifacts`);
      expect((await research.listArtifacts(run.info.artifact_uri)).body).toEqual({ files: [{ path: 'report.txt', is_dir: false, file_size: 4 }] });
      expect((await research.download(run.info.artifact_uri, 'report.txt')).bytes.toString()).toBe('done');
      // MLflow 3 asks the server beside the artifacts endpoint whether multipart transfers are on.
      const serverInfo = await fetch(`${base}/projects/research/api/3.0/mlflow/server-info`);
      expect(await serverInfo.json()).toEqual({ multipart_uploads_enabled: false, multipart_downloads_enabled: false });
    });

    it('answers a project the caller cannot see with 404 RESOURCE_DOES_NOT_EXIST naming it', async () => {
      const nowhere = new PythonClient(`${base}/projects/nowhere`, { token: ADMIN_KEY });
      const response = await nowhere.call('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'churn' });
      expect(response).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('"nowhere"') } });
    });

    it('serves the same handlers under /ajax-api/2.0, and /health and /version', async () => {
      const ajax = await client.call('GET', '/ajax-api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'churn' });
      expect(ajax).toMatchObject({ status: 200, body: { experiment: { name: 'churn' } } });
      const health = await fetch(`${base}/health`);
      expect(await health.text()).toBe('OK');
      expect(await (await fetch(`${base}/version`)).text()).toMatch(/^\d+\.\d+\.\d+$/);
    });
  });
});
