import { platformClient, seedProject, seedUser } from '@trellis/testing';
import { EXIT } from './exit-codes';
import { jsonOf, runCli } from '../test/run-cli';

/** A run with one small file under model/, enough for the registry to copy (it does not load models). */
async function seedRunWithModel(projectId: string): Promise<string> {
  const client = platformClient();
  const { experiment } = await client.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'train' });
  const { run } = await client.call<{ run: { info: { id: string } } }>('trellis.tracking.v1.RunService/CreateRun', { experimentId: experiment.id, runName: 'baseline' });
  await client.request(`/api/2.0/mlflow-artifacts/artifacts/${experiment.id}/${run.info.id}/artifacts/model/weights.txt`, { method: 'PUT', body: 'w = 0.5\n' });
  return run.info.id;
}

interface Version {
  version: string;
  status: string;
  runId: string;
}

describe('trellis models', () => {
  let project: string;
  let projectId: string;
  let runId: string;
  beforeAll(async () => {
    ({ name: project, projectId } = await seedProject('cli-models'));
    runId = await seedRunWithModel(projectId);
  });

  it('registers two versions, moves an alias from one to the other, and shows the history and the lineage', async () => {
    const first = jsonOf<Version>(await runCli(['models', 'register', 'churn', '--source', `runs:/${runId}/model`, '--format', 'onnx', '-p', project, '-o', 'json']));
    expect(first).toMatchObject({ version: '1', status: 'MODEL_VERSION_STATUS_READY', runId });
    const second = await runCli(['models', 'register', 'churn', '--source', `runs:/${runId}/model`, '-p', project]);
    expect(second).toMatchObject({ code: 0, stdout: 'Registered churn version 2 (ready).\n', stderr: '' });

    expect((await runCli(['models', 'alias', 'churn', 'champion', '1', '-p', project])).stdout).toBe('churn@champion now points at version 1.\n');
    expect((await runCli(['models', 'alias', 'churn', 'champion', '2', '-p', project])).stdout).toBe('churn@champion now points at version 2 (was version 1).\n');

    const listed = await runCli(['models', 'list', '-p', project]);
    expect(listed.stdout).toMatch(/^churn\s+2\s+champion=2\s+\S+$/m);
    const shown = await runCli(['models', 'show', 'churn', '-p', project]);
    expect(shown.stdout).toMatch(/^aliases:\s+champion=2$/m);
    expect(shown.stdout).toMatch(new RegExp(`^2\\s+ready\\s+${runId}\\s+champion\\s`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^1\\s+ready\\s+onnx\\s+${runId}\\s`, 'm'));

    const history = await runCli(['models', 'history', 'churn', '--alias', 'champion', '-p', project]);
    const entries = history.stdout.trim().split('\n').slice(1);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/champion\s+v1 -> v2\s+\S+/);
    expect(entries[1]).toMatch(/champion\s+set to v1\s+\S+/);

    const lineage = await runCli(['models', 'lineage', 'churn', '2', '-p', project]);
    expect(lineage.stdout).toContain(`run              ${runId} (baseline)`);
    expect(lineage.stdout).toContain('-> version          churn v2 (ready)');
    expect(lineage.stdout).toContain('-> endpoint         (none serves it)');

    expect((await runCli(['models', 'alias', 'churn', 'champion', '--delete', '-p', project])).code).toBe(0);
  });

  it('exits 1 with the reason when the files cannot be copied, and 5 for a model that does not exist', async () => {
    const failed = await runCli(['models', 'register', 'broken', '--source', `runs:/${runId}/missing`, '-p', project]);
    expect(failed.code).toBe(EXIT.failed);
    expect(failed.stderr).toMatch(/version 1 of broken failed: .*missing/);
    const missing = await runCli(['models', 'show', 'nope', '-p', project]);
    expect(missing.code).toBe(EXIT.notFound);
    const usage = await runCli(['models', 'alias', 'churn', 'champion', '-p', project]);
    expect(usage.code).toBe(EXIT.usage);
  });

  it("refuses a viewer's alias move with exit code 4", async () => {
    await runCli(['models', 'register', 'viewed', '--source', `runs:/${runId}/model`, '-p', project]);
    const { apiKey } = await seedUser(projectId, 'viewer', 'cli-models-viewer');
    const moved = await runCli(['models', 'alias', 'viewed', 'champion', '1', '-p', projectId], { apiKey });
    expect(moved.code).toBe(EXIT.permissionDenied);
    expect((await runCli(['models', 'history', 'viewed', '-p', projectId], { apiKey })).code).toBe(0);
  });

  it('requests an approval for a protected alias once, and moves it after someone else approves', async () => {
    await runCli(['models', 'register', 'guarded', '--source', `runs:/${runId}/model`, '-p', project]);
    await platformClient().call('trellis.registry.v1.RegistryService/UpdateModel', { model: { projectId, name: 'guarded', protectedAliases: ['prod'] }, updateMask: 'protectedAliases' });
    const { apiKey } = await seedUser(projectId, 'editor', 'cli-models-editor');

    const asked = await runCli(['models', 'alias', 'guarded', 'prod', '1', '-p', projectId, '-o', 'json'], { apiKey });
    expect(asked.code).toBe(EXIT.conflict);
    const { approval } = JSON.parse(asked.stdout) as { approval: { id: string; details: Record<string, string> } };
    expect(approval.details).toEqual({ version: '1' });
    expect(asked.stderr).toContain(`trellis models approve ${approval.id}`);
    const again = await runCli(['models', 'alias', 'guarded', 'prod', '1', '-p', projectId], { apiKey });
    expect(again.stderr).toContain(`approval ${approval.id} to point it at version 1 is waiting`);

    const pending = await runCli(['models', 'approvals', '-p', projectId]);
    expect(pending.stdout.split('\n').filter((line) => line.startsWith(approval.id))).toHaveLength(1);
    const ownApproval = await runCli(['models', 'approve', approval.id], { apiKey });
    expect(ownApproval.code).toBe(EXIT.permissionDenied);
    expect((await runCli(['models', 'approve', approval.id, '--comment', 'looks good'])).stdout).toContain(`--approval ${approval.id}`);

    const moved = await runCli(['models', 'alias', 'guarded', 'prod', '1', '--approval', approval.id, '-p', projectId], { apiKey });
    expect(moved).toMatchObject({ code: 0, stdout: 'guarded@prod now points at version 1.\n' });
    const history = jsonOf<Array<{ approvalId: string }>>(await runCli(['models', 'history', 'guarded', '-p', projectId, '-o', 'json']));
    expect(history.map((change) => change.approvalId)).toEqual([approval.id]);
  });
});
