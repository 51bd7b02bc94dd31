// The tracking pages of the web UI in headless Chromium, against a standalone (`npm start`'s
// program, SQLite) seeded through the gateway's API as users would fill it:
//   (a) an experiment of BENCH_RUNS runs (default 50,000; 3 params and 2 metrics each): the time
//       from a client-side navigation to its runs page until the first page of rows is painted,
//       newest first, and filtered and sorted by a metric, against the same for 100 runs;
//   (b) a run with a BENCH_POINTS-point metric (default 1,000,000): the time from a client-side
//       navigation to its run page until the metric's chart is drawn, and the bytes the page
//       fetched meanwhile (the encoded sizes of every response), against a run of 1,000 points.
// The browser signs in once; each round navigates inside the app (as a user clicking a link),
// then back to the projects page. Medians of BENCH_ROUNDS rounds after one warm-up.
// Run: node tools/build.mjs && node tools/bench/run.cjs tools/bench/ui/tracking-ui.bench.ts
import { GatewayClient } from '@trellis/client';
import { seededUniforms, startStandaloneProcess } from '@trellis/testing';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../../../apps/web/e2e/browser';

const RUNS = Number(process.env.BENCH_RUNS ?? 50_000);
const BASELINE_RUNS = 100;
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const BASELINE_POINTS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENCY = 16;
/** Points per LogBatch: the most one request takes. */
const BATCH = 1000;
const TABLE_TARGET_MS = 1000;
const CHART_TARGET_MS = 500;
const CHART_TARGET_BYTES = 1024 * 1024;
const START = Date.UTC(2026, 0, 5);

/** Runs `work(i)` for i in [0, count) with `CONCURRENCY` in flight. */
async function inParallel(count: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function createExperiment(client: GatewayClient, projectId: string, name: string): Promise<string> {
  const { experiment } = await client.call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name });
  return experiment.id;
}

async function createRun(client: GatewayClient, experimentId: string, runName: string, startMs: number): Promise<string> {
  const { run } = await client.call<{ run: { info: { id: string } } }>('trellis.tracking.v1.RunService/CreateRun', { experimentId, runName, startTime: new Date(startMs).toISOString() });
  return run.info.id;
}

/** An experiment of `count` runs, each with 3 params and the latest point of 2 metrics (values from a fixed seed). */
async function seedExperiment(client: GatewayClient, projectId: string, name: string, count: number): Promise<string> {
  const experimentId = await createExperiment(client, projectId, name);
  const random = seededUniforms(count);
  const values = Array.from({ length: count }, () => [random(), random(), Math.floor(random() * 10)]);
  await inParallel(count, async (i) => {
    const runId = await createRun(client, experimentId, `run-${i}`, START + i * 1000);
    const [loss, accuracy, choice] = values[i];
    await client.call('trellis.tracking.v1.RunService/LogBatch', {
      runId,
      params: [
        { key: 'lr', value: String(10 ** -(1 + choice % 4)) },
        { key: 'optimizer', value: choice % 2 ? 'adam' : 'sgd' },
        { key: 'layers', value: String(2 + choice) },
      ],
      metrics: [
        { key: 'loss', value: loss, step: '100', timestampMs: String(START + i * 1000) },
        { key: 'accuracy', value: accuracy, step: '100', timestampMs: String(START + i * 1000) },
      ],
    });
  });
  return experimentId;
}

/** A run whose `loss` has `points` steps: a falling curve with noise and a spike every 100,000 steps. */
async function seedSeries(client: GatewayClient, experimentId: string, points: number): Promise<string> {
  const runId = await createRun(client, experimentId, `series-${points}`, START);
  const random = seededUniforms(points);
  await inParallel(Math.ceil(points / BATCH), async (batch) => {
    const metrics = Array.from({ length: Math.min(BATCH, points - batch * BATCH) }, (_, i) => {
      const step = batch * BATCH + i;
      const value = 1 / (1 + step / 10_000) + random() * 0.01 + (step % 100_000 === 50_000 ? 1 : 0);
      return { key: 'loss', value, step: String(step), timestampMs: String(START + step) };
    });
    await client.call('trellis.tracking.v1.RunService/LogBatch', { runId, metrics });
  });
  return runId;
}

/**
 * Runs in the page (as source text: this program's types know no DOM): navigates inside the app to
 * `path` as a link does (history, then react-router's popstate) and resolves with the milliseconds
 * until an element matching `selector` has text matching `pattern` and the next frame is painted.
 */
const TIMED_NAVIGATION = `async ({ path, selector, pattern }) => {
  const ready = () => [...document.querySelectorAll(selector)].some((element) => new RegExp(pattern).test(element.textContent ?? ''));
  const started = performance.now();
  history.pushState({}, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
  await new Promise((resolve) => {
    if (ready()) return resolve();
    const observer = new MutationObserver(() => {
      if (!ready()) return;
      observer.disconnect();
      resolve();
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - started;
}`;

/** Milliseconds from a client-side navigation to `path` until `selector` shows text matching `pattern`, painted. */
async function timedNavigation(page: Page, path: string, selector: string, pattern: string): Promise<number> {
  return page.evaluate(`(${TIMED_NAVIGATION})(${JSON.stringify({ path, selector, pattern })})`) as Promise<number>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const platform = await startStandaloneProcess({});
  const browser = await launchBrowser();
  try {
    const client = new GatewayClient({ url: platform.gateway, credential: platform.adminKey });
    const { project } = await client.call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: 'ui-bench' });
    const projectId = project.id;

    let started = Date.now();
    const large = await seedExperiment(client, projectId, 'large', RUNS);
    const seedRunsSeconds = (Date.now() - started) / 1000;
    console.error(`seeded ${RUNS} runs in ${seedRunsSeconds.toFixed(1)} s`);
    const small = await seedExperiment(client, projectId, 'small', BASELINE_RUNS);
    started = Date.now();
    const seriesExperiment = await createExperiment(client, projectId, 'series');
    const longRun = await seedSeries(client, seriesExperiment, POINTS);
    const seedPointsSeconds = (Date.now() - started) / 1000;
    console.error(`seeded ${POINTS} points in ${seedPointsSeconds.toFixed(1)} s`);
    const shortRun = await seedSeries(client, seriesExperiment, BASELINE_POINTS);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${platform.gateway}/ui/projects`);
    await page.getByLabel('API key').fill(platform.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'ui-bench' }).waitFor();
    // Every response's bytes on the wire (headers included, compressed as sent), and the sampled series' alone.
    const network = await page.context().newCDPSession(page);
    await network.send('Network.enable');
    const urls = new Map<string, string>();
    let bytes = { all: 0, series: 0 };
    network.on('Network.responseReceived', (event: { requestId: string; response: { url: string } }) => urls.set(event.requestId, event.response.url));
    network.on('Network.loadingFinished', (event: { requestId: string; encodedDataLength: number }) => {
      bytes.all += event.encodedDataLength;
      if (urls.get(event.requestId)?.endsWith('/GetSampledMetricSeries')) bytes.series += event.encodedDataLength;
    });

    const home = () => timedNavigation(page, '/ui/projects', 'a', '^ui-bench$');
    const table = (experimentId: string, query = '') => async () => ({ ms: await timedNavigation(page, `/ui/p/${projectId}/experiments/${experimentId}${query}`, 'table[aria-label="Runs"] tbody a', '^run-') });
    const chart = (runId: string) => async () => {
      bytes = { all: 0, series: 0 };
      const ms = await timedNavigation(page, `/ui/p/${projectId}/runs/${runId}`, 'figure.metric-chart figcaption', '^Steps ');
      if ((await page.locator('figure.metric-chart canvas').count()) !== 1) throw new Error('the chart has no canvas');
      return { ms, ...bytes };
    };
    /** Rounds of the figure and its baseline, alternating so both meet the same machine; medians of each. */
    const paired = async <T extends Record<string, number>>(figure: () => Promise<T>, baseline: () => Promise<T>): Promise<[T, T]> => {
      const results: [T[], T[]] = [[], []];
      for (let round = 0; round <= ROUNDS; round++) {
        for (const [index, work] of [figure, baseline].entries()) {
          const result = await work();
          await home();
          if (round > 0) results[index].push(result);
        }
      }
      const medians = (list: T[]) => Object.fromEntries(Object.keys(list[0]).map((key) => [key, median(list.map((result) => result[key]))])) as T;
      return [medians(results[0]), medians(results[1])];
    };
    const filtered = `?filter=${encodeURIComponent("params.optimizer = 'adam' and metrics.accuracy > 0.5")}&sort=metrics.loss`;
    const [tableLarge, tableSmall] = await paired(table(large), table(small));
    const [sortedLarge, sortedSmall] = await paired(table(large, filtered), table(small, filtered));
    const [chartLong, chartShort] = await paired(chart(longRun), chart(shortRun));

    const runs = RUNS.toLocaleString('en-US');
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log('tracking UI benchmark (headless Chromium, standalone on SQLite, one machine)');
    console.log(`  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB memory, load average ${loadavg()[0].toFixed(2)}`);
    console.log(`  seeded through the gateway (${CONCURRENCY} requests in flight): ${runs} runs (CreateRun + LogBatch each) in ${seedRunsSeconds.toFixed(1)} s; ${POINTS.toLocaleString('en-US')} points (LogBatch of ${BATCH}) in ${seedPointsSeconds.toFixed(1)} s`);
    console.log(`  medians of ${ROUNDS} rounds after a warm-up; each a client-side navigation until painted`);
    console.log(`  (a) runs table, first page of 100, newest first: ${runs} runs ${tableLarge.ms.toFixed(0)} ms, ${BASELINE_RUNS} runs ${tableSmall.ms.toFixed(0)} ms (ratio ${ratio(tableLarge.ms, tableSmall.ms)})`);
    console.log(`      filtered (params.optimizer = 'adam' and metrics.accuracy > 0.5), sorted by metrics.loss: ${runs} runs ${sortedLarge.ms.toFixed(0)} ms, ${BASELINE_RUNS} runs ${sortedSmall.ms.toFixed(0)} ms (ratio ${ratio(sortedLarge.ms, sortedSmall.ms)})`);
    const slowest = Math.max(tableLarge.ms, sortedLarge.ms);
    console.log(`      target < ${TABLE_TARGET_MS} ms: ${slowest < TABLE_TARGET_MS ? 'met' : 'NOT met'}`);
    console.log(
      `  (b) run page to chart drawn: ${POINTS.toLocaleString('en-US')} points ${chartLong.ms.toFixed(0)} ms, ${kib(chartLong.all)} fetched (the sampled series ${kib(chartLong.series)}); ${BASELINE_POINTS.toLocaleString('en-US')} points ${chartShort.ms.toFixed(0)} ms, ${kib(chartShort.all)} (${kib(chartShort.series)}); ratios ${ratio(chartLong.ms, chartShort.ms)} and ${ratio(chartLong.all, chartShort.all)}`,
    );
    console.log(`      target < ${CHART_TARGET_MS} ms and < 1 MiB: ${chartLong.ms < CHART_TARGET_MS && chartLong.all < CHART_TARGET_BYTES ? 'met' : 'NOT met'}`);
    console.log(`  load average at the end: ${loadavg().map((load) => load.toFixed(2)).join(', ')}`);
  } finally {
    await browser.close();
    await platform.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
