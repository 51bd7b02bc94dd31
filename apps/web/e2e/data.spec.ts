import type { Browser } from 'playwright-core';
import { eventually, platformClient, seedProject, seedUser } from '@trellis/testing';
import type { GetVersionProfileResponseJson } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPage, launchBrowser, signedInPage } from './browser';

/** A CSV of `rows` accounts: an id, an amount that grows with it, and one of three plans. */
function accounts(rows: number, scale: number): string {
  const plans = ['basic', 'pro', 'team'];
  const lines = Array.from({ length: rows }, (_, i) => `${i + 1},${((i % 17) * scale + 0.5).toFixed(2)},${plans[i % 3]}`);
  return `id,amount,plan\n${lines.join('\n')}\n`;
}

/** Pushes files as a version through the gateway's tar route, as `tar -c | curl` would. */
async function pushVersion(datasetId: string, files: Record<string, string>, message: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ui-data-'));
  try {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    await platformClient().request(`/v1/data/datasets/${datasetId}/versions?message=${encodeURIComponent(message)}`, {
      method: 'POST',
      body: execFileSync('tar', ['-C', dir, '-c', '.']),
      headers: { 'content-type': 'application/x-tar' },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the data pages', () => {
  let browser: Browser;
  let projectId: string;
  let datasetId: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    ({ projectId } = await seedProject('ui-data'));
    const { dataset } = await platformClient().call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'accounts', description: 'one row per account' });
    datasetId = dataset.id;
    await pushVersion(datasetId, { 'accounts.csv': accounts(60, 1), 'notes.txt': 'first export\n' }, 'first export');
    await pushVersion(datasetId, { 'accounts.csv': accounts(90, 2), 'extra.csv': accounts(5, 3) }, 'March export');
    // Profiles are computed after the commit: wait for them here, so the page shows them when it opens.
    await eventually(
      async () => {
        const profile = await platformClient().call<GetVersionProfileResponseJson>('trellis.data.v1.ProfileService/GetVersionProfile', { datasetId, version: '2' });
        expect(profile.status).toBe('PROFILE_STATUS_READY');
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the datasets, shows a dataset with its versions and the difference between two of them', async () => {
    const ui = await signedInPage(browser, `/ui/p/${projectId}/datasets`);
    await ui.page.getByRole('link', { name: 'accounts' }).waitFor();
    await checkPage(ui, 'data-datasets');

    await ui.page.getByRole('link', { name: 'accounts' }).click();
    const versions = ui.page.getByRole('table', { name: 'Versions' });
    await versions.getByRole('row', { name: /March export/ }).waitFor();
    expect(await versions.getByRole('row').count()).toBe(3);
    const diff = ui.page.getByRole('table', { name: 'Differences from version 1 to version 2' });
    await diff.getByRole('row', { name: /extra\.csv/ }).waitFor();
    expect(await diff.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/^Change\s+Path/),
      expect.stringMatching(/^changed\s+accounts\.csv/),
      expect.stringMatching(/^added\s+extra\.csv/),
      expect.stringMatching(/^removed\s+notes\.txt/),
    ]);
    await checkPage(ui, 'data-dataset');
    await ui.page.close();
  });

  it("shows a version's files and column profiles, and lets an editor tag it", async () => {
    const ui = await signedInPage(browser, `/ui/p/${projectId}/datasets/${datasetId}/versions/2`);
    await ui.page.getByRole('img', { name: /^Histogram of amount in accounts\.csv: 20 bins from 0\.5 to 32\.5/ }).waitFor();
    const plans = ui.page.getByRole('table', { name: 'Most frequent values of plan in accounts.csv' });
    expect(await plans.getByRole('row').allInnerTexts()).toEqual([expect.stringMatching(/^Value\s+Count$/), 'basic\t30', 'pro\t30', 'team\t30']);
    await ui.page.getByRole('table', { name: 'Files' }).getByRole('row', { name: /extra\.csv/ }).waitFor();

    await ui.page.getByLabel('Tag', { exact: true }).fill('march');
    await ui.page.getByRole('button', { name: 'Add tag' }).click();
    await ui.page.getByRole('button', { name: 'Remove tag march' }).waitFor();
    await checkPage(ui, 'data-version');
    await ui.page.close();
  });

  it('shows a viewer the same version read-only', async () => {
    const { apiKey } = await seedUser(projectId, 'viewer', 'ui-data-viewer');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/datasets/${datasetId}/versions/2`, apiKey);
    await ui.page.getByRole('img', { name: /^Histogram of amount in accounts\.csv/ }).waitFor();
    expect(await ui.page.getByRole('button', { name: 'Add tag' }).count()).toBe(0);
    expect(await ui.page.getByRole('button', { name: /^Remove tag/ }).count()).toBe(0);
    await checkPage(ui, 'data-version-viewer');

    await ui.page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Datasets' }).click();
    await ui.page.getByRole('link', { name: 'accounts' }).waitFor();
    expect(await ui.page.getByRole('button', { name: 'Create' }).count()).toBe(0);
    await ui.page.close();
  });
});
