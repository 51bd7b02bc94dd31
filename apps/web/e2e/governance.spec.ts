import type { ListRoleBindingsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import { eventually, platformClient, seedName, seedProject, seedUser } from '@trellis/testing';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { checkPage, launchBrowser, signedInPage } from './browser';

describe('governance pages: audit, admin, members', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('finds a record by action and method, shows its details, verifies the chain, and exports JSON Lines', async () => {
    const { projectId, name } = await seedProject('ui-audit');
    const { principalId } = await seedUser(projectId, 'editor', 'ui-audit-editor');
    const ui = await signedInPage(browser, '/ui/audit');
    const { page } = ui;
    await page.getByLabel('Project').selectOption({ label: name });
    await page.getByLabel('Action').selectOption('create');
    await page.getByLabel('Method', { exact: true }).fill('SetRoleBinding');
    await page.getByRole('button', { name: 'Search' }).click();
    const records = page.getByRole('table', { name: 'Audit records' });
    // The search's answer, not the unfiltered page shown before it.
    await page.getByRole('status').filter({ hasText: /^1 shown$/ }).waitFor();
    const row = records.getByRole('row').filter({ hasText: 'SetRoleBinding' });
    expect(await records.locator('tbody tr').count()).toBe(1);

    await row.getByRole('button', { name: /Details of record/ }).click();
    await page.getByRole('heading', { name: /^Record \d+$/ }).waitFor();
    await page.getByRole('definition').filter({ hasText: `projects/${projectId}/members/${principalId}` }).waitFor();

    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText(/The chain is intact: \d+ records and \d+ checkpoints checked/).waitFor();

    await page.getByRole('button', { name: 'Export as JSON Lines' }).click();
    const link = page.getByRole('link', { name: /^Download trellis-audit-.*\.jsonl \(\d+ lines\)$/ });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^trellis-audit-.*\.jsonl$/);
    const lines = readFileSync(await download.path(), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { event?: { method?: string }; checkpoint?: unknown });
    expect(lines.filter((line) => line.checkpoint === undefined).map((line) => line.event?.method)).toEqual(['trellis.governance.v1.IdentityService/SetRoleBinding']);
    await checkPage(ui, 'governance-audit');
    await page.close();
  });

  it('lets an org admin create a user, then a key whose secret is shown once, and revoke it', async () => {
    const userName = seedName('ui-admin-user');
    const ui = await signedInPage(browser, '/ui/admin');
    const { page } = ui;
    await page.getByLabel('Name', { exact: true }).fill(userName);
    await page.getByLabel('Display name').fill('Grace Hopper');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Created user ${userName}.` }).waitFor();
    await page.getByRole('button', { name: `Keys of ${userName}` }).click();

    await page.getByLabel('Key name').fill('notebook');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'API key notebook created' });
    await dialog.waitFor();
    const secret = await dialog.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await checkPage(ui, 'governance-admin-secret');
    await dialog.getByRole('button', { name: 'I have stored it' }).click();
    // Closed, the dialog leaves the page, and the secret with it.
    await page.locator('dialog').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    await platformClient(secret).call('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey: secret });

    const keys = page.getByRole('table', { name: `API keys of ${userName}` });
    await keys.getByRole('row').filter({ hasText: 'notebook' }).getByText('active').waitFor();
    await checkPage(ui, 'governance-admin');
    await page.getByRole('button', { name: 'Revoke notebook', exact: true }).click();
    await page.getByRole('button', { name: 'Revoke notebook now' }).click();
    await keys.getByRole('row').filter({ hasText: 'notebook' }).getByText('revoked').waitFor();
    await expect(platformClient(secret).call('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey: secret })).rejects.toMatchObject({ status: 'UNAUTHENTICATED' });
    await page.close();
  });

  it("lets an admin change a member's role, and shows a viewer the members without controls", async () => {
    const { projectId } = await seedProject('ui-members');
    const viewer = await seedUser(projectId, 'viewer', 'ui-members-viewer');
    const member = await seedUser(projectId, 'viewer', 'ui-members-member');

    const admin = await signedInPage(browser, `/ui/p/${projectId}/members`);
    const role = admin.page.getByRole('row').filter({ hasText: member.principalId }).getByRole('combobox');
    await role.waitFor();
    await role.selectOption('editor');
    await eventually(async () => {
      const { bindings = [] } = await platformClient().call<ListRoleBindingsResponseJson>('trellis.governance.v1.IdentityService/ListRoleBindings', { projectId });
      expect(bindings.find((binding) => binding.principalId === member.principalId)?.role).toBe('ROLE_EDITOR');
    });
    await admin.page.getByRole('button', { name: 'Add member' }).waitFor();
    await checkPage(admin, 'governance-members');
    await admin.page.close();

    const ui = await signedInPage(browser, `/ui/p/${projectId}/members`, viewer.apiKey);
    const members = ui.page.getByRole('table', { name: 'Members' });
    await members.getByRole('row').filter({ hasText: member.principalId }).getByText('editor').waitFor();
    await ui.page.getByText('Only the project\'s admins and owners change members').waitFor();
    expect(await ui.page.getByRole('combobox').count()).toBe(0);
    expect(await ui.page.getByRole('button', { name: /Remove|Add member/ }).count()).toBe(0);
    await checkPage(ui, 'governance-members-viewer');

    await ui.page.getByRole('link', { name: 'Admin' }).click();
    await ui.page.getByText('This page needs an org admin').waitFor();
    await ui.page.getByRole('link', { name: 'Audit' }).click();
    await ui.page.getByText('The audit log is for the admins and owners of a project').waitFor();
    await checkPage(ui, 'governance-audit-viewer');
    await ui.page.close();
  });
});
