import type { Browser } from 'playwright-core';
import { seedProject, seedUser } from '@trellis/testing';
import { checkPage, launchBrowser, signedInPage, testPlatform } from './browser';

describe('signing in to the web UI', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('refuses a wrong API key with a message, then signs in with the right one and lists the projects', async () => {
    const { name } = await seedProject('ui-sign-in');
    const page = await browser.newPage();
    await page.goto(`${testPlatform().gateway}/`);
    await page.getByLabel('API key').fill(`trellis_0000000000000bad_${'B'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectVisible(page.getByRole('alert'));
    expect(await page.getByRole('alert').textContent()).toMatch(/Signed out:|API key/);
    await page.close();

    const ui = await signedInPage(browser, '/');
    await expectVisible(ui.page.getByRole('link', { name }));
    expect(new URL(ui.page.url()).pathname).toBe('/ui/projects');
    await checkPage(ui, 'projects');
  });

  it('shows a viewer its role and no project creation beyond what the API allows it', async () => {
    const { projectId, name } = await seedProject('ui-viewer');
    const { apiKey: viewerKey } = await seedUser(projectId, 'viewer', 'ui-viewer-user');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/experiments`, viewerKey);
    await expectVisible(ui.page.getByText(name));
    await expectVisible(ui.page.locator('.project-name .badge', { hasText: 'viewer' }));
    await checkPage(ui, 'experiments-viewer');
  });
});

async function expectVisible(locator: { waitFor(options: { state: 'visible' }): Promise<void> }): Promise<void> {
  await locator.waitFor({ state: 'visible' });
}
