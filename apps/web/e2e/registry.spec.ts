import { eventually, platformClient, seedProject, seedUser } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { checkPage, launchBrowser, signedInPage } from './browser';

/**
 * A project with a dataset version, a run that trained on it and logged a small file under
 * model/, and a model with two READY versions registered from that run (the registry copies
 * files; it does not load models), as a training pipeline leaves them.
 */
async function seedModel(): Promise<{ projectId: string; runId: string; datasetId: string }> {
  const { projectId } = await seedProject('ui-registry');
  const client = platformClient();
  const { dataset } = await client.call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'churn' });
  await client.json(`/v1/data/datasets/${dataset.id}/versions?message=training`, { method: 'POST', body: tarOf({ 'train.csv': 'x,y\n1,0\n' }), headers: { 'content-type': 'application/x-tar' } });
  const { experiment } = await client.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'train' });
  const { run } = await client.call<{ run: { info: { id: string } } }>('trellis.tracking.v1.RunService/CreateRun', { experimentId: experiment.id, runName: 'baseline' });
  const runId = run.info.id;
  await client.call('trellis.tracking.v1.RunService/LogInputs', { runId, datasets: [{ dataset: { name: 'churn', digest: 'd1', sourceType: 'trellis', source: 'datasets:/churn/1' } }] });
  await client.request(`/api/2.0/mlflow-artifacts/artifacts/${experiment.id}/${runId}/artifacts/model/weights.txt`, { method: 'PUT', body: 'w = 0.5\n' });
  await client.call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name: 'churn' });
  for (const version of [1, 2]) {
    await client.call('trellis.registry.v1.RegistryService/CreateVersion', { projectId, modelName: 'churn', source: `runs:/${runId}/model` });
    const { version: settled } = await client.call<{ version: { status: string } }>('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName: 'churn', version });
    expect(settled.status).toBe('MODEL_VERSION_STATUS_READY');
  }
  await client.call('trellis.registry.v1.RegistryService/SetAlias', { projectId, modelName: 'churn', alias: 'champion', version: 1 });
  // Data learns the lineage from events: wait until the dataset version shows upstream of version 2.
  await eventually(async () => {
    const { nodes = [] } = await client.call<{ nodes?: Array<{ name: string }> }>('trellis.data.v1.LineageService/GetLineage', {
      node: `projects/${projectId}/models/churn/versions/2`,
      depth: 3,
    });
    expect(nodes.map((node) => node.name)).toContain(`datasets/${dataset.id}/versions/1`);
  });
  return { projectId, runId, datasetId: dataset.id };
}

/** A tar archive of the files given by name, as `tar -c` makes it (what a dataset push takes). */
function tarOf(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ui-registry-'));
  try {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    return execFileSync('tar', ['-C', dir, '-c', '.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the registry pages', () => {
  let browser: Browser;
  let seeded: { projectId: string; runId: string; datasetId: string };
  beforeAll(async () => {
    [browser, seeded] = await Promise.all([launchBrowser(), seedModel()]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('moves champion from v1 to v2 and shows both moves on the timeline, then the lineage of v2', async () => {
    const { projectId, runId, datasetId } = seeded;
    const ui = await signedInPage(browser, `/ui/p/${projectId}/models`);
    const { page } = ui;
    await page.getByRole('link', { name: 'churn' }).click();
    await visible(page.getByRole('table', { name: 'Versions of churn' }).getByRole('link', { name: 'v2' }));
    await checkPage(ui, 'registry-model');
    // The models list was seen on the way: check it too.
    await page.getByRole('link', { name: 'Models' }).click();
    await visible(page.getByRole('table', { name: 'Registered models' }).getByText('champion → v1'));
    await checkPage(ui, 'registry-models');
    await page.getByRole('link', { name: 'churn' }).click();

    const form = page.getByRole('form', { name: 'Move an alias' });
    await form.getByLabel('Alias').fill('champion');
    await form.getByLabel('Version').selectOption('2');
    await form.getByRole('button', { name: 'Move alias' }).click();
    await visible(form.getByRole('status').filter({ hasText: 'champion now points at version 2.' }));

    const timeline = page.getByRole('region', { name: 'History of champion' }).getByRole('listitem');
    await visible(timeline.nth(1));
    expect(await timeline.allInnerTexts()).toEqual([expect.stringMatching(/set to v1 by /), expect.stringMatching(/moved v1 → v2 by /)]);
    // Before any change the alias pointed nowhere; now it points at v2.
    await page.getByLabel('on', { exact: true }).fill('2000-01-01T00:00:00');
    await visible(page.getByText('champion pointed at no version then.'));
    await checkPage(ui, 'registry-alias-history');

    await page.getByRole('table', { name: 'Versions of churn' }).getByRole('link', { name: 'v2' }).click();
    const chain = page.getByRole('list', { name: 'Lineage of churn version 2' });
    await visible(chain.getByRole('link', { name: 'churn v1' }));
    expect(await chain.getByRole('link', { name: 'churn v1' }).getAttribute('href')).toBe(`/ui/p/${projectId}/datasets/${datasetId}`);
    expect(await chain.getByRole('link', { name: 'baseline' }).getAttribute('href')).toBe(`/ui/p/${projectId}/runs/${runId}`);
    await visible(chain.getByText('none serves it'));
    await checkPage(ui, 'registry-version-lineage');
    await page.close();
  });

  it('shows a viewer the model, its history and approvals without any control to change them', async () => {
    const { projectId } = seeded;
    const { apiKey } = await seedUser(projectId, 'viewer', 'ui-registry-viewer');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/models/churn`, apiKey);
    const { page } = ui;
    await visible(page.getByRole('region', { name: 'History of champion' }));
    expect(await page.getByRole('form', { name: 'Move an alias' }).count()).toBe(0);
    expect(await page.getByRole('button').filter({ hasText: /Move/ }).count()).toBe(0);
    await checkPage(ui, 'registry-model-viewer');

    await platformClient().call('trellis.governance.v1.ApprovalService/RequestApproval', {
      projectId,
      action: 'registry.alias.set',
      resource: `projects/${projectId}/models/churn/aliases/prod`,
      details: { version: '2' },
    });
    await page.getByRole('link', { name: 'Approvals' }).click();
    await visible(page.getByRole('table', { name: 'Approval requests' }).getByText(`projects/${projectId}/models/churn/aliases/prod`));
    expect(await page.getByRole('button', { name: /Approve|Reject|Withdraw/ }).count()).toBe(0);
    await checkPage(ui, 'registry-approvals-viewer');
    await page.close();
  });
});

async function visible(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'visible' });
}
