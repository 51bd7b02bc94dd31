import type { GatewayClient } from '@trellis/client';
import { platformClient, seedProject, seedUser } from '@trellis/testing';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { checkPage, launchBrowser, signedInPage } from './browser';

/** Points of the long series: more than a chart asks for (1000), so the first view is sampled. */
const LONG_SERIES = 3000;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

interface SeededRun {
  id: string;
  name: string;
}

describe('the tracking pages', () => {
  let browser: Browser;
  let projectId: string;
  let experimentId: string;
  let runs: Record<'alpha' | 'beta' | 'gamma', SeededRun>;

  beforeAll(async () => {
    browser = await launchBrowser();
    ({ projectId } = await seedProject('ui-tracking'));
    const admin = platformClient();
    ({ experiment: { id: experimentId } } = await admin.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'churn-model' }));
    runs = {
      alpha: await seedRun(admin, experimentId, 'alpha', { lr: '0.01', optimizer: 'adam' }, 300, 0),
      beta: await seedRun(admin, experimentId, 'beta', { lr: '0.1', optimizer: 'adam' }, LONG_SERIES, 1),
      gamma: await seedRun(admin, experimentId, 'gamma', { lr: '0.01', optimizer: 'sgd' }, 300, 2),
    };
    await putArtifact(admin, experimentId, runs.beta.id, 'notes.txt', Buffer.from('trained on churn v3\nearly stopping at epoch 12\n'));
    await putArtifact(admin, experimentId, runs.beta.id, 'plots/loss.png', solidPng(24, 16));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('finds a run with a filter, zooms its chart into finer points, previews its artifacts, and compares two runs', async () => {
    const ui = await signedInPage(browser, `/ui/p/${projectId}/experiments`);
    const { page } = ui;
    await page.getByRole('link', { name: 'churn-model' }).click();
    const table = page.getByRole('table', { name: 'Runs' });
    await runLink(table, 'gamma').waitFor();
    await checkPage(ui, 'tracking-runs');

    // A filter the grammar refuses shows the gateway's message; the browser logs the refused request.
    await page.getByLabel('Filter').fill('params.lr = ');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid:' }).waitFor();
    expect(ui.errors.splice(0)).toEqual([expect.stringContaining('400')]);

    await page.getByLabel('Filter').fill("params.lr = '0.1'");
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('alert').waitFor({ state: 'detached' });
    await table.getByRole('link').first().waitFor();
    expect(await table.getByRole('link').allTextContents()).toEqual(['beta']);

    await runLink(table, 'beta').click();
    const chart = page.locator('figure.metric-chart').filter({ has: page.getByRole('heading', { name: 'loss' }) });
    const caption = chart.locator('figcaption');
    await expectText(caption, /^Steps 0–2,999: \d[\d,]* of 3,000 points/);
    expect(pointsOf(await caption.textContent())).toBeLessThan(LONG_SERIES);

    await dragAcross(page, chart.locator('.u-over'), 0.4, 0.6);
    await expectText(caption, /zoomed/);
    const zoomed = /^Steps ([\d,]+)–([\d,]+): ([\d,]+) of ([\d,]+) points/.exec((await caption.textContent()) ?? '');
    const [first, last, shown, total] = (zoomed ?? []).slice(1).map((value) => Number(value.replace(/,/g, '')));
    expect(first).toBeGreaterThan(0);
    expect(last).toBeLessThan(LONG_SERIES - 1);
    // Every point of the zoomed range arrives: detail the first, sampled view did not have.
    expect([shown, total]).toEqual([last - first + 1, last - first + 1]);

    const artifacts = page.getByRole('table', { name: 'Artifacts' });
    await artifacts.getByRole('button', { name: 'notes.txt' }).click();
    await expectText(page.locator('.artifact-preview pre'), /early stopping at epoch 12/);
    await artifacts.getByRole('button', { name: 'plots/' }).click();
    await artifacts.getByRole('button', { name: 'loss.png' }).click();
    const image = page.getByRole('img', { name: 'plots/loss.png' });
    await image.waitFor();
    // decode() resolves once the bytes are an image: the blob URL holds the PNG as uploaded.
    expect(await image.evaluate(async (element) => {
      const img = element as unknown as { decode(): Promise<void>; naturalWidth: number; naturalHeight: number };
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    })).toEqual([24, 16]);
    await checkPage(ui, 'tracking-run');

    await page.goBack();
    await page.getByRole('button', { name: 'Clear' }).click();
    await runLink(table, 'alpha').waitFor();
    await page.getByRole('checkbox', { name: 'Select alpha' }).check();
    await page.getByRole('checkbox', { name: 'Select beta' }).check();
    await page.getByRole('button', { name: 'Compare (2)' }).click();
    const compareChart = page.locator('figure.metric-chart').filter({ has: page.getByRole('heading', { name: 'loss' }) });
    for (const name of ['alpha', 'beta']) await compareChart.locator('.u-legend .u-label', { hasText: name }).waitFor();
    const differences = page.getByRole('table', { name: 'Params and metrics of the compared runs' });
    await expectText(differences.locator('tr.differs').first(), /./);
    expect(await differences.locator('tr.differs th').allTextContents()).toEqual(['params.lrdiffers', 'metrics.lossdiffers']);
    await checkPage(ui, 'tracking-compare');

    await page.getByLabel('Only differences').check();
    expect(await differences.locator('tbody th').allTextContents()).toEqual(['params.lrdiffers', 'metrics.lossdiffers']);
    await page.close();
  });

  it('pages through an experiment of more runs than a page holds, 100 at a time', async () => {
    const admin = platformClient();
    const { experiment } = await admin.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'many-runs' });
    const names = Array.from({ length: 105 }, (_, i) => `run-${String(i).padStart(3, '0')}`);
    for (let first = 0; first < names.length; first += 15) {
      await Promise.all(names.slice(first, first + 15).map((runName, i) => admin.call('trellis.tracking.v1.RunService/CreateRun', { experimentId: experiment.id, runName, startTime: new Date(START + (first + i) * 1000).toISOString() })));
    }
    const ui = await signedInPage(browser, `/ui/p/${projectId}/experiments/${experiment.id}`);
    const table = ui.page.getByRole('table', { name: 'Runs' });
    const pager = ui.page.getByRole('navigation', { name: 'Pages of runs' });
    await expectText(pager, /Page 1: 100 runs/);
    await expectLinks(table, names.slice(5).reverse());
    await ui.page.getByRole('button', { name: 'Next page' }).click();
    await expectText(pager, /Page 2: 5 runs/);
    await expectLinks(table, names.slice(0, 5).reverse());
    expect(await ui.page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await ui.page.getByRole('button', { name: 'Previous page' }).click();
    await expectText(pager, /Page 1: 100 runs/);
    await runLink(table, 'run-104').waitFor();
    expect(ui.errors).toEqual([]);
    await ui.page.close();
  });

  it('sorts by a metric column on the server and shows a viewer the runs and a run without editing controls', async () => {
    const { apiKey } = await seedUser(projectId, 'viewer', 'ui-tracking-viewer');
    const ui = await signedInPage(browser, `/ui/p/${projectId}/experiments/${experimentId}`, apiKey);
    const table = ui.page.getByRole('table', { name: 'Runs' });
    await runLink(table, 'gamma').waitFor();
    // The latest loss (seedRun): alpha 0.25 after 300 steps, gamma 0.063, beta 0.011 after 3000.
    await table.getByRole('button', { name: 'metrics.loss' }).click();
    await expectText(table.locator('th[aria-sort="descending"]'), /loss/);
    await expectLinks(table, ['alpha', 'gamma', 'beta']);
    await table.getByRole('button', { name: 'metrics.loss' }).click();
    await expectLinks(table, ['beta', 'gamma', 'alpha']);
    await checkPage(ui, 'tracking-runs-viewer');

    await runLink(table, 'alpha').click();
    await ui.page.getByRole('heading', { name: 'Parameters' }).waitFor();
    expect(await ui.page.getByRole('button', { name: /delete|rename|edit/i }).count()).toBe(0);
    await checkPage(ui, 'tracking-run-viewer');
    await ui.page.close();
  });
});

/** A finished run with params and a `loss` series of `points` steps (falling faster with a higher `rate`). */
async function seedRun(client: GatewayClient, experimentId: string, name: string, params: Record<string, string>, points: number, rate: number): Promise<SeededRun> {
  const { run } = await client.call<{ run: { info: { id: string } } }>('trellis.tracking.v1.RunService/CreateRun', { experimentId, runName: name, startTime: new Date(START + rate * 60_000).toISOString() });
  const runId = run.info.id;
  await client.call('trellis.tracking.v1.RunService/LogBatch', { runId, params: Object.entries(params).map(([key, value]) => ({ key, value })) });
  for (let first = 0; first < points; first += 1000) {
    const steps = Array.from({ length: Math.min(1000, points - first) }, (_, i) => first + i);
    const metrics = steps.map((step) => ({ key: 'loss', value: 1 / (1 + step * (0.01 + rate * 0.02)), step: String(step), timestampMs: String(START + step * 1000) }));
    await client.call('trellis.tracking.v1.RunService/LogBatch', { runId, metrics });
  }
  await client.call('trellis.tracking.v1.RunService/UpdateRun', { runId, status: 'RUN_STATUS_FINISHED', updateMask: 'status' });
  return { id: runId, name };
}

/** Uploads a run's file as the MLflow client does, through the gateway's proxied artifact store. */
async function putArtifact(client: GatewayClient, experimentId: string, runId: string, path: string, bytes: Buffer): Promise<void> {
  await client.request(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`, { method: 'PUT', body: bytes });
}

/** A PNG of one colour, `width` by `height` pixels. */
function solidPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [31, 95, 74]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

function runLink(table: Locator, name: string): Locator {
  return table.getByRole('link', { name, exact: true });
}

/** Drags across a chart from one fraction of its width to another, as a user selects a range. */
async function dragAcross(page: Page, over: Locator, from: number, to: number): Promise<void> {
  const box = await over.boundingBox();
  if (!box) throw new Error('the chart is not on screen');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps: 8 });
  await page.mouse.up();
}

function pointsOf(caption: string | null): number {
  return Number(/: ([\d,]+) of/.exec(caption ?? '')?.[1]?.replace(/,/g, '') ?? NaN);
}

async function expectText(locator: Locator, pattern: RegExp): Promise<void> {
  await locator.filter({ hasText: pattern }).first().waitFor();
}

/** Waits until the table lists the runs in this order (each row in turn, then all at once). */
async function expectLinks(table: Locator, names: string[]): Promise<void> {
  for (const [index, name] of names.entries()) await runLink(table.locator('tbody tr').nth(index), name).waitFor();
  expect(await table.locator('tbody tr a').allTextContents()).toEqual(names);
}
