import { MetricSampling, MetricServiceDesc, type MetricColumns, type StreamMetricSeriesResponse } from '@trellis/proto';
import type { RequestContext } from '../http/request-context';
import { earliestPoints, MetricsJson } from './metric-columns.json';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter, missingParameter } from './mlflow-errors';
import { sendStream } from './streamed-response';

/** Tracking's largest history page; MLflow's GET_METRIC_HISTORY_MAX_RESULTS is the same. */
const MAX_HISTORY_PAGE = 25_000;
/** MLflow's limits of get-history-bulk and get-history-bulk-interval. */
const MAX_BULK_RUNS = 100;
const MAX_RESULTS_PER_RUN = 2500;

const metrics = (call: MlflowCall) => call.rpc.of(MetricServiceDesc);

/** A request that fails one of the checks of MLflow's handler, in its words. */
const failedCheck = (message: string) => invalidParameter(`${message} See the API docs for more information about request parameters.`);

/** Answers 200 with the JSON `json` wrote. */
function sendWritten(ctx: RequestContext, json: MetricsJson): void {
  const pieces = json.finish();
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
  ctx.res.cork();
  for (const piece of pieces) ctx.res.write(piece);
  ctx.res.end();
}

/** The points of a streamed history as pieces of MLflow's JSON, comma-separated across chunks. */
async function* historyJson(chunks: AsyncIterable<StreamMetricSeriesResponse>): AsyncGenerator<Buffer> {
  let written = 0;
  for await (const { points } of chunks) {
    const json = new MetricsJson(written > 0 ? ',' : '').add(points);
    if (json.count === 0) continue;
    written += json.count;
    yield* json.finish();
  }
}

/**
 * One metric's history. With `max_results` or `page_token`, one page (and `next_page_token`);
 * without, every point, streamed as it is read: `{"metrics":[` then the points chunk by chunk,
 * then `]}`, so a history of millions of points never sits whole in memory. Points travel from
 * tracking as packed columns and are written to JSON from them.
 */
async function getHistory(call: MlflowCall): Promise<void> {
  const fields = await call.fields();
  const runId = fields.runId();
  const key = fields.requiredString('metric_key');
  const maxResults = fields.count('max_results');
  const pageToken = fields.string('page_token') ?? '';
  if (maxResults !== undefined || pageToken) {
    const page = await metrics(call).getMetricSeries({ runId, key, pageSize: Math.min(maxResults || MAX_HISTORY_PAGE, MAX_HISTORY_PAGE), pageToken }, call.rpc.options);
    const next = page.nextPageToken ? `,"next_page_token":${JSON.stringify(page.nextPageToken)}` : '';
    sendWritten(call.ctx, new MetricsJson('{"metrics":[').add(page.points).text(`]${next}}`));
    return;
  }
  const chunks = metrics(call).streamMetricSeries({ runId, key }, call.rpc.options);
  await sendStream(call.ctx, 'application/json', '{"metrics":[', ']}', historyJson(chunks), (piece) => piece);
}

/**
 * The points of one metric of several runs over a step range, sampled as MLflow samples them: at
 * about `max_results` steps chosen evenly among the steps the runs have (the first and last
 * included, and each run's own first and last), every run's points at those steps, as `metrics[]`
 * with `run_id`, run by run in the order asked, each in step order. Without a range, from step 0
 * to the last, as MLflow.
 */
async function getHistoryBulkInterval(call: MlflowCall): Promise<void> {
  const fields = await call.fields();
  const runIds = fields.strings('run_ids');
  if (runIds.length === 0) throw missingParameter('run_ids');
  if (runIds.length > MAX_BULK_RUNS) {
    throw failedCheck(`GetMetricHistoryBulkInterval request must specify at most ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`);
  }
  const key = fields.requiredString('metric_key');
  const startStep = fields.int64('start_step');
  const endStep = fields.int64('end_step');
  const maxResults = fields.count('max_results') ?? MAX_RESULTS_PER_RUN;
  if (maxResults < 1 || maxResults > MAX_RESULTS_PER_RUN) throw failedCheck(`max_results must be between 1 and ${MAX_RESULTS_PER_RUN}.`);
  if ((startStep === undefined) !== (endStep === undefined)) {
    throw invalidParameter('If either start step or end step are specified, both must be specified.');
  }
  if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
    throw invalidParameter(`end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`);
  }
  const { series } = await metrics(call).getSampledMetricSeries(
    { runIds, key, startStep: startStep ?? 0n, endStep, maxPoints: maxResults, sampling: MetricSampling.EVEN_STEPS },
    call.rpc.options,
  );
  const json = new MetricsJson('{"metrics":[');
  for (const one of series) json.add(one.points, one.runId);
  sendWritten(call.ctx, json.text(']}'));
}

/**
 * The full history of one metric of several runs (the UI's `get-history-bulk`, `run_id` repeated),
 * as `metrics[]` with `run_id`, ordered as MLflow's store orders them: by run id, each run's points
 * by timestamp, step and value; at most `max_results` points in all (25,000 by default and at most,
 * as MLflow).
 */
async function getHistoryBulk(call: MlflowCall): Promise<void> {
  const fields = await call.fields();
  const runIds = fields.strings('run_id');
  if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
  if (runIds.length > MAX_BULK_RUNS) throw invalidParameter(`GetMetricHistoryBulk request cannot specify more than ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`);
  const key = fields.string('metric_key');
  if (key === undefined) throw invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
  const maxResults = Math.min(fields.count('max_results') ?? MAX_HISTORY_PAGE, MAX_HISTORY_PAGE);
  const json = new MetricsJson('{"metrics":[');
  for (const runId of [...new Set(runIds)].sort()) {
    if (json.count === maxResults) break;
    json.add(await earliestOfRun(call, runId, key, maxResults - json.count), runId);
  }
  sendWritten(call.ctx, json.text(']}'));
}

/**
 * The first `limit` points of a run's series in MLflow's order (see earliestPoints), read page by
 * page (25,000 points a page: one page for most series), holding at most a page more than that.
 */
async function earliestOfRun(call: MlflowCall, runId: string, key: string, limit: number): Promise<MetricColumns | undefined> {
  let kept: MetricColumns | undefined;
  let pageToken = '';
  do {
    const page = await metrics(call).getMetricSeries({ runId, key, pageToken }, call.rpc.options);
    kept = earliestPoints([kept, page.points], limit);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return kept;
}

/** Metric histories. */
export const metricRoutes: readonly MlflowRoute[] = [
  { method: 'GET', path: '/mlflow/metrics/get-history-bulk', handle: getHistoryBulk, streams: true },
  { method: 'GET', path: '/mlflow/metrics/get-history', handle: getHistory, streams: true },
  { method: 'GET', path: '/mlflow/metrics/get-history-bulk-interval', handle: getHistoryBulkInterval, streams: true },
];
