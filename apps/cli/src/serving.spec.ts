import { CHURN_FEATURES, churnModel } from '@trellis/plugin-runtime-onnx/testing';
import { platformClient, seedProject, seedUser } from '@trellis/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './exit-codes';
import { jsonOf, runCli } from '../test/run-cli';

interface EndpointJson {
  id: string;
  name: string;
  traffic: { targets: Array<{ revisionId: string; percent: number }> };
  revisions: Array<{ id: string; number: number; modelVersion: string; state: string }>;
}

/** A project whose registered model churn has versions 1 and 2, both the churn MLP (ONNX) logged by one run. */
async function seedChurnVersions(name: string): Promise<{ projectId: string; projectName: string }> {
  const { projectId, name: projectName } = await seedProject(name);
  const admin = platformClient();
  const mlflow = `/projects/${projectName}/api/2.0/mlflow`;
  const post = <T>(path: string, body: object) => admin.json<T>(`${mlflow}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const { experiment_id: experimentId } = await post<{ experiment_id: string }>('experiments/create', { name: 'train' });
  const { run } = await post<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId });
  const runId = run.info.run_id;
  const model = await churnModel(join(mkdtempSync(join(tmpdir(), 'trellis-cli-serving-')), 'model.onnx'));
  await admin.request(`/projects/${projectName}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/model.onnx`, { method: 'PUT', body: model });
  await admin.call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
  for (const version of ['1', '2']) {
    await admin.call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model`, runId, format: 'onnx' });
    await admin.call('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version });
  }
  return { projectId, projectName };
}

const row = Array.from({ length: CHURN_FEATURES }, (_, index) => index / 10);
const request = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, CHURN_FEATURES], data: row }] });

describe('trellis deploy, predict, traffic, rollback and endpoints stats', () => {
  it('deploys two versions, predicts, shows statistics, moves traffic and rolls back', async () => {
    const { projectId, projectName } = await seedChurnVersions('cli-serving');
    const p = ['-p', projectName];

    const created = jsonOf<EndpointJson>(await runCli(['deploy', 'churn', '--model', 'models:/churn/1', ...p, '-o', 'json']));
    expect(created.revisions.map(({ number, state }) => ({ number, state }))).toEqual([{ number: 1, state: 'REVISION_STATE_READY' }]);

    const canary = await runCli(['deploy', 'churn', '--model', 'models:/churn/2', '--traffic', '10', ...p]);
    expect(canary).toMatchObject({ code: 0, stderr: '' });
    expect(canary.stdout).toMatch(/revision 2 \(churn v2\) is READY; traffic 1 \(churn v1\) 90%, 2 \(churn v2\) 10%/);

    const predicted = await runCli(['predict', 'churn', '--input', '-', '--revision', '2', ...p], { input: request });
    expect(predicted.code).toBe(0);
    expect(predicted.stdout).toMatch(/^OUTPUT\s+DATATYPE\s+SHAPE\s+DATA\ny\s+FP32\s+\[1, 2\]\s+\[-?\d/);
    const file = join(mkdtempSync(join(tmpdir(), 'trellis-cli-predict-')), 'request.json');
    writeFileSync(file, request);
    for (let index = 0; index < 3; index++) {
      const answer = jsonOf<{ outputs: Array<{ name: string; shape: number[] }> }>(await runCli(['predict', 'churn', '--input', file, ...p, '-o', 'json']));
      expect(answer.outputs.map(({ name, shape }) => ({ name, shape }))).toEqual([{ name: 'y', shape: [1, 2] }]);
    }

    const stats = jsonOf<{ total: Array<{ requests: string; errors: string; p99Ms: number }>; revisions: Array<{ revisionNumber: number }> }>(
      await runCli(['endpoints', 'stats', 'churn', '--since', '1h', '--bucket', '1h', ...p, '-o', 'json']),
    );
    expect(stats.total.reduce((sum, bucket) => sum + Number(bucket.requests), 0)).toBe(4);
    expect(stats.total.every((bucket) => Number(bucket.errors ?? 0) === 0 && bucket.p99Ms > 0)).toBe(true);
    expect(stats.revisions.map((revision) => revision.revisionNumber)).toContain(2);
    const table = await runCli(['endpoints', 'stats', 'churn', '--by-revision', ...p]);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+REVISION\s+REQUESTS\s+ERRORS\s+ERROR %\s+P50 MS\s+P95 MS\s+P99 MS$/);

    const moved = await runCli(['traffic', 'churn', '1=50', '2=50', ...p]);
    expect(moved.stdout).toContain('traffic 1 (churn v1) 50%, 2 (churn v2) 50%');
    const rolledBack = await runCli(['rollback', 'churn', ...p]);
    expect(rolledBack.stdout).toBe('rolled back churn: now serving 1 (churn v1) 90%, 2 (churn v2) 10%\n');

    const shown = await runCli(['endpoints', 'show', 'churn', ...p]);
    expect(shown.stdout).toMatch(/^traffic:\s+1 \(churn v1\) 90%, 2 \(churn v2\) 10%$/m);
    const listed = jsonOf<EndpointJson[]>(await runCli(['endpoints', 'list', ...p, '-o', 'json']));
    expect(listed.map((endpoint) => endpoint.name)).toEqual(['churn']);

    // A viewer reads the endpoint and its statistics, but may not roll it back.
    const viewer = await seedUser(projectId, 'viewer', 'cli-serving-viewer');
    expect((await runCli(['endpoints', 'stats', 'churn', ...p], { apiKey: viewer.apiKey })).code).toBe(0);
    const refused = await runCli(['rollback', 'churn', ...p], { apiKey: viewer.apiKey });
    expect(refused.code).toBe(EXIT.permissionDenied);
  });

  it('checks arguments before calling, and exits with codes scripts can rely on', async () => {
    const { name: projectName } = await seedProject('cli-serving-refusals');
    const p = ['-p', projectName];
    const badRef = await runCli(['deploy', 'churn', '--model', 'churn:3', ...p]);
    expect(badRef).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('models:/<name>/<version>') });
    expect((await runCli(['deploy', 'churn', '--model', 'models:/churn/1', '--traffic', '120', ...p])).code).toBe(EXIT.usage);
    expect((await runCli(['traffic', 'churn', '1=abc', ...p])).stderr).toContain('<revision>=<percent>');
    expect((await runCli(['endpoints', 'stats', 'churn', '--bucket', '30s', ...p])).stderr).toContain('whole minutes');
    const missing = await runCli(['rollback', 'churn', ...p]);
    expect(missing).toMatchObject({ code: EXIT.notFound, stderr: expect.stringContaining('trellis endpoints list') });
    const notRegistered = await runCli(['deploy', 'churn', '--model', 'models:/churn/1', ...p]);
    expect(notRegistered.code).toBe(EXIT.notFound);
    const notJson = await runCli(['predict', 'churn', '--input', '-', ...p], { input: 'x=1' });
    expect(notJson).toMatchObject({ code: EXIT.invalidArgument, stderr: expect.stringContaining('--input is not JSON') });
  });
});
