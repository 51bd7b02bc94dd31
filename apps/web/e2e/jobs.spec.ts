import { platformClient, seedName, seedProject, seedUser } from '@trellis/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { checkPage, launchBrowser, signedInPage } from './browser';

describe('the jobs area', () => {
  let browser: Browser;
  const gates: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    // A job of a failed test still waits for its gate: open them all, so no process outlives the spec.
    for (const gate of gates) writeFileSync(gate, '');
    await browser?.close();
  });

  it("follows a job's log live to its end, shows why another waits on the queue, and lets an editor cancel it but not a viewer", async () => {
    const { projectId } = await seedProject('ui-jobs');
    const queue = seedName('ui-jobs');
    const admin = platformClient();
    await admin.call('trellis.compute.v1.QueueService/CreateQueue', { queue: { name: queue, cluster: 'local' } });
    // Room for one job at a time: the second waits for the first's quota.
    await admin.call('trellis.compute.v1.QueueService/SetGrant', { queue, projectId, quotas: [{ resource: 'cpu', nominal: '200' }, { resource: 'memory', nominal: String(2 ** 30) }] });
    const editor = await seedUser(projectId, 'editor', 'ui-jobs-editor');
    const viewer = await seedUser(projectId, 'viewer', 'ui-jobs-viewer');
    const dir = mkdtempSync(join(tmpdir(), 'trellis-ui-jobs-'));
    const [firstGate, secondGate] = [join(dir, 'holder.gate'), join(dir, 'waiter.gate')];
    gates.push(firstGate, secondGate);
    const submit = async (name: string, command: string[]) => {
      const spec = { name, command, resources: { cpuMillis: '200', memoryBytes: String(64 * 2 ** 20) } };
      const { job } = await platformClient(editor.apiKey).call<{ job: { id: string } }>('trellis.compute.v1.JobService/SubmitJob', { projectId, queue, spec });
      return job.id;
    };
    const holder = await submit('holder', ['sh', '-c', 'echo first; while [ ! -f "$0" ]; do sleep 0.1; done; echo second', firstGate]);
    const waiter = await submit('waiter', ['sh', '-c', 'echo waited; while [ ! -f "$0" ]; do sleep 0.1; done', secondGate]);

    const ui = await signedInPage(browser, `/ui/p/${projectId}/jobs`, editor.apiKey);
    await visible(ui.page.getByRole('table', { name: 'Jobs' }).getByRole('row').filter({ hasText: 'waiter' }).locator('.badge', { hasText: /^queued$/ }));
    await visible(ui.page.getByRole('link', { name: 'holder', exact: true }));
    await checkPage(ui, 'jobs-list');

    await ui.page.getByRole('link', { name: queue }).first().click();
    const pending = ui.page.getByRole('table', { name: 'Pending jobs' }).getByRole('row').filter({ hasText: 'waiter' });
    await visible(pending.getByText(new RegExp(`^waiting: needs 1 replica x 0\\.2 cpu = 0\\.2; project \\S+ uses 0\\.2/0\\.2 cpu of its quota on queue ${queue}`)));
    expect(await pending.getByRole('cell').first().textContent()).toBe('1');
    await visible(ui.page.getByRole('table', { name: 'Quota and usage' }).getByRole('row', { name: /^cpu 0\.2 cores no limit all 0\.2 cores$/ }));
    await checkPage(ui, 'jobs-queue');

    const asViewer = await signedInPage(browser, `/ui/p/${projectId}/jobs/${waiter}`, viewer.apiKey);
    await visible(stateBadge(asViewer.page, 'queued'));
    expect(await asViewer.page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await checkPage(asViewer, 'jobs-job-viewer');
    await asViewer.page.close();

    await openJob(ui.page, 'holder');
    expect(new URL(ui.page.url()).pathname).toBe(`/ui/p/${projectId}/jobs/${holder}`);
    const log = ui.page.getByRole('log');
    await visible(log.getByText('first'));
    await visible(ui.page.getByRole('button', { name: 'Cancel job' }));
    await checkPage(ui, 'jobs-job-running');
    writeFileSync(firstGate, '');
    await visible(log.getByText('second'));
    await visible(stateBadge(ui.page, 'succeeded'));
    expect(await log.textContent()).toBe('first\nsecond\n');
    expect(await ui.page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);

    // The quota is free again: the waiter runs, and its editor cancels it.
    await openJob(ui.page, 'waiter');
    await visible(ui.page.getByRole('log').getByText('waited'));
    await ui.page.getByRole('button', { name: 'Cancel job' }).click();
    await ui.page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await visible(stateBadge(ui.page, 'cancelled'));
    await checkPage(ui, 'jobs-job-cancelled');
  });
});

/** Goes to the jobs list through the project's menu and opens the job named `name`. */
async function openJob(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await visible(page.getByRole('heading', { name: `Job ${name}` }));
}

/** The job's state in its Status panel. */
function stateBadge(page: Page, state: string): Locator {
  return page.locator('dd .badge', { hasText: new RegExp(`^${state}$`) });
}

async function visible(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'visible' });
}
