import { seedUser } from '@trellis/testing';
import type { Browser, Locator } from 'playwright-core';
import { checkPage, launchBrowser, signedInPage } from './browser';
import { DRIFTING_COLUMN, seedDriftingMonitor, type DriftingMonitor } from './monitoring-seed';

describe('monitoring in the web UI', () => {
  let browser: Browser;
  let seeded: DriftingMonitor;

  beforeAll(async () => {
    browser = await launchBrowser();
    // An endpoint whose second window drifts in f0 only, and rule f0-drift's alert firing.
    seeded = await seedDriftingMonitor('ui-monitoring');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('sees a drift alert: Monitoring, the alert, its monitor, the drifting column verdict and chart', async () => {
    const ui = await signedInPage(browser, `/ui/p/${seeded.projectId}/monitors`);
    const { page } = ui;
    const monitorRow = page.getByRole('table', { name: 'Monitors' }).getByRole('row').filter({ hasText: seeded.monitorName });
    await visible(monitorRow.getByText('1 column drifted'));
    expect(await monitorRow.textContent()).toContain(`endpoint ${seeded.endpointName}`);
    await checkPage(ui, 'monitoring-monitors');

    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Alerts' }).click();
    const alertRow = page.getByRole('table', { name: 'Alerts' }).getByRole('row').filter({ hasText: seeded.alertSummary });
    await visible(alertRow);
    expect(await alertRow.getByRole('cell').allTextContents()).toEqual(expect.arrayContaining(['firing', 'critical', seeded.monitorName, seeded.ruleName, '2']));
    const ruleRow = page.getByRole('table', { name: 'Alert rules' }).getByRole('row').filter({ hasText: seeded.ruleName });
    await visible(ruleRow.getByText(`${DRIFTING_COLUMN} p-value < 0.05`));
    await checkPage(ui, 'monitoring-alerts');

    await alertRow.getByRole('link', { name: seeded.monitorName }).click();
    await visible(page.getByRole('heading', { level: 1, name: seeded.monitorName }));
    const verdicts = page.getByRole('table', { name: "Latest window's verdict per column" });
    await visible(verdicts.getByRole('row').filter({ hasText: DRIFTING_COLUMN }).getByText('drifted'));
    expect(await verdicts.getByText('drifted', { exact: true }).count()).toBe(1);
    await visible(page.getByRole('img', { name: `Drift of column ${DRIFTING_COLUMN}: its p-value per window, with the threshold 0.05` }));
    // The drifting column's chart comes first, flagged.
    expect(await page.getByRole('heading', { level: 3 }).nth(1).textContent()).toMatch(new RegExp(`^${DRIFTING_COLUMN} .*drifted in the last window$`));
    expect(await page.getByRole('table', { name: 'Alerts of this monitor' }).getByRole('row').filter({ hasText: 'firing' }).count()).toBe(1);
    await visible(page.getByRole('button', { name: 'Delete monitor' }));
    await checkPage(ui, 'monitoring-monitor');
    await page.close();
  });

  it('lets an editor add a rule to a monitor and delete it', async () => {
    const { apiKey } = await seedUser(seeded.projectId, 'editor', 'ui-monitoring-editor');
    const ui = await signedInPage(browser, `/ui/p/${seeded.projectId}/monitors/${seeded.monitorId}`, apiKey);
    const { page } = ui;
    const form = page.getByRole('form', { name: 'New alert rule' });
    await form.getByLabel('Rule name').fill('half-drifted');
    await form.getByLabel('Alert when').selectOption({ label: 'Share of drifted columns at least' });
    await form.getByLabel('Bound').fill('0.5');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const rules = page.getByRole('table', { name: 'Alert rules' });
    await visible(rules.getByRole('row').filter({ hasText: 'half-drifted' }).getByText('drift share >= 0.5'));

    await rules.getByRole('button', { name: 'Delete rule half-drifted' }).click();
    await rules.getByRole('row').filter({ hasText: 'half-drifted' }).waitFor({ state: 'detached' });
    expect(await rules.getByRole('row').filter({ hasText: seeded.ruleName }).count()).toBe(1);
    expect(ui.errors).toEqual([]);
    await page.close();
  });

  it('lets an editor create a monitor of the endpoint and delete it after confirming', async () => {
    const { apiKey } = await seedUser(seeded.projectId, 'editor', 'ui-monitoring-creator');
    const ui = await signedInPage(browser, `/ui/p/${seeded.projectId}/monitors`, apiKey);
    const { page } = ui;
    await page.getByLabel('Name').fill('churn-hourly');
    await page.getByLabel('Endpoint').selectOption(seeded.endpointName);
    await page.getByLabel('Rows per window').fill('500');
    await page.getByRole('button', { name: 'Create monitor' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'churn-hourly' }));
    expect(await page.getByText('500 rows').count()).toBe(1);
    expect(await page.getByText('lineage: models:/churn/1').count()).toBe(1);

    await page.getByRole('button', { name: 'Delete monitor' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    const monitors = page.getByRole('table', { name: 'Monitors' });
    await visible(monitors.getByRole('link', { name: seeded.monitorName }));
    expect(await monitors.getByRole('link', { name: 'churn-hourly' }).count()).toBe(0);
    expect(ui.errors).toEqual([]);
    await page.close();
  });

  it('shows a viewer the monitor and its drift read-only', async () => {
    const { apiKey } = await seedUser(seeded.projectId, 'viewer', 'ui-monitoring-viewer');
    const ui = await signedInPage(browser, `/ui/p/${seeded.projectId}/monitors`, apiKey);
    const { page } = ui;
    await page.getByRole('link', { name: seeded.monitorName }).click();
    await visible(page.getByRole('img', { name: new RegExp(`^Drift of column ${DRIFTING_COLUMN}:`) }));
    await visible(page.getByRole('table', { name: 'Alert rules' }).getByRole('row').filter({ hasText: seeded.ruleName }));
    expect(await page.getByRole('button', { name: /Delete|Add rule|Create monitor/ }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'New alert rule' }).count()).toBe(0);
    await checkPage(ui, 'monitoring-monitor-viewer');

    await page.getByRole('link', { name: 'All monitors' }).click();
    await visible(page.getByRole('table', { name: 'Monitors' }).getByRole('link', { name: seeded.monitorName }));
    expect(await page.getByRole('heading', { name: 'New monitor' }).count()).toBe(0);
    await page.close();
  });
});

async function visible(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'visible' });
}
