import type { Browser } from 'playwright-core';
import { CHURN_FEATURES, churnModel } from '@trellis/plugin-runtime-onnx/testing';
import { eventually, platformClient, seedProject, seedUser } from '@trellis/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPage, launchBrowser, signedInPage } from './browser';

interface EndpointJson {
  id: string;
  revisions: Array<{ id: string; number: number; state: string }>;
}

const SERVING = 'trellis.serving.v1.EndpointService';

/**
 * A project with endpoint churn: revision 1 (churn v1) deployed first, then revision 2 (churn v2)
 * with all of the traffic, both READY, and a few predictions answered by each.
 */
async function seedEndpoint(name: string): Promise<{ projectId: string; endpointId: string }> {
  const { projectId, name: projectName } = await seedProject(name);
  const admin = platformClient();
  const json = (body: object) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const mlflow = `/projects/${projectName}/api/2.0/mlflow`;
  const { experiment_id: experimentId } = await admin.json<{ experiment_id: string }>(`${mlflow}/experiments/create`, json({ name: 'train' }));
  const { run } = await admin.json<{ run: { info: { run_id: string } } }>(`${mlflow}/runs/create`, json({ experiment_id: experimentId }));
  const runId = run.info.run_id;
  const model = await churnModel(join(mkdtempSync(join(tmpdir(), 'trellis-ui-serving-')), 'model.onnx'));
  await admin.request(`/projects/${projectName}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/model.onnx`, { method: 'PUT', body: model });
  await admin.call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
  for (const version of ['1', '2']) {
    await admin.call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model`, runId, format: 'onnx' });
    await admin.call('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version });
  }
  const { endpoint } = await admin.call<{ endpoint: EndpointJson }>(`${SERVING}/CreateEndpoint`, { projectId, name: 'churn', model: 'models:/churn/1' });
  await admin.call(`${SERVING}/DeployRevision`, { endpointId: endpoint.id, model: 'models:/churn/2' });
  await eventually(
    async () => {
      const { endpoint: current } = await admin.call<{ endpoint: EndpointJson }>(`${SERVING}/GetEndpoint`, { endpointId: endpoint.id });
      expect(current.revisions.map((revision) => revision.state)).toEqual(['REVISION_STATE_READY', 'REVISION_STATE_READY']);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const row = Array.from({ length: CHURN_FEATURES }, (_, index) => index / 10);
  for (const revision of ['1', '2', '2', '2']) {
    await admin.request('/v2/models/churn/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'trellis-project': projectId, 'trellis-revision': revision },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, CHURN_FEATURES], data: row }] }),
    });
  }
  return { projectId, endpointId: endpoint.id };
}

describe('serving in the web UI', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists endpoints, charts an endpoint, and rolls it back to revision 1 after a confirmation', async () => {
    const { projectId } = await seedEndpoint('ui-serving');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/endpoints`);
    const { page } = ui;
    await page.getByRole('table', { name: 'Endpoints' }).getByRole('cell', { name: 'ready' }).waitFor();
    await checkPage(ui, 'serving-endpoints');

    await page.getByRole('link', { name: 'churn' }).click();
    await page.getByRole('img', { name: 'Traffic split: Revision 2 (churn v2) 100%' }).waitFor();
    await page.getByText('4 requests, 0 errors.').waitFor();
    await page.getByRole('img', { name: 'Latency percentiles over time, in milliseconds' }).waitFor();
    await page.getByRole('img', { name: 'Requests and errors per revision over time' }).waitFor();
    await checkPage(ui, 'serving-endpoint');

    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back churn?' });
    await dialog.getByRole('img', { name: 'Split after the rollback: Revision 1 (churn v1) 100%' }).waitFor();
    await checkPage(ui, 'serving-rollback-dialog');
    await dialog.getByRole('button', { name: 'Yes, roll back' }).click();
    await page.getByRole('img', { name: 'Traffic split: Revision 1 (churn v1) 100%' }).waitFor();
    const revisions = page.getByRole('table', { name: 'Revisions' });
    await revisions.getByRole('row', { name: /^1 churn v1 .* 100%/ }).waitFor();
    await revisions.getByRole('row', { name: /^2 churn v2 .* 0%/ }).waitFor();
    await checkPage(ui, 'serving-endpoint-rolled-back');
  });

  it("shows a viewer an endpoint's traffic and charts without Roll back", async () => {
    const { projectId, endpointId } = await seedEndpoint('ui-serving-viewer');
    const { apiKey } = await seedUser(projectId, 'viewer', 'ui-serving-viewer');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/endpoints/${endpointId}`, apiKey);
    await ui.page.getByText('4 requests, 0 errors.').waitFor();
    expect(await ui.page.getByRole('button', { name: 'Roll back' }).count()).toBe(0);
    await checkPage(ui, 'serving-endpoint-viewer');
  });
});
