import { MetricService } from '@trellis/proto';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter } from './mlflow-errors';
import { metricJson, withPageToken } from './mlflow-json';
import { sendStream } from './streamed-response';

/** Tracking's largest history page; MLflow's GET_METRIC_HISTORY_MAX_RESULTS is the same. */
const MAX_HISTORY_PAGE = 25_000;
/** MLflow's limits of get-history-bulk-interval. */
const MAX_BULK_RUNS = 100;
const MAX_RESULTS_PER_RUN = 2500;

const metrics = (call: MlflowCall) => call.rpc.of(MetricService);

/**
 * One metric's history. With `max_results` or `page_token`, one page (and `next_page_token`);
 * without, every point, streamed as it is read: `{"metrics":[` then the points chunk by chunk,
 * then `]}`, so a history of millions of points never sits whole in memory.
 */
async function getHistory(call: MlflowCall): Promise<void> {
  const fields = await call.fields();
  const runId = fields.runId();
  const key = fields.requiredString('metric_key');
  const maxResults = fields.count('max_results');
  const pageToken = fields.string('page_token') ?? '';
  if (maxResults !== undefined || pageToken) {
    const page = await metrics(call).getMetricHistory(
      { runId, key, pageSize: Math.min(maxResults || MAX_HISTORY_PAGE, MAX_HISTORY_PAGE), pageToken },
      call.rpc.options,
    );
    call.ctx.sendJson(200, withPageToken({ metrics: page.metrics.map(metricJson) }, page.nextPageToken));
    return;
  }
  let first = true;
  await sendStream(call.ctx, 'application/json', '{"metrics":[', ']}', metrics(call).streamMetricHistory({ runId, key }, call.rpc.options), (chunk) => {
    let text = '';
    for (const metric of chunk.metrics) {
      text += first ? JSON.stringify(metricJson(metric)) : `,${JSON.stringify(metricJson(metric))}`;
      first = false;
    }
    return text;
  });
}

/**
 * The points of one metric of several runs over a step range, cut down to about `max_results` per
 * run by tracking's sampling (the lowest and highest value of each bucket survive, and the first
 * and last points), as `metrics[]` with `run_id`, run by run in the order asked, each in step order.
 */
async function getHistoryBulkInterval(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const runIds = fields.strings('run_ids');
  if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulkInterval request must specify at least one run_id.');
  if (runIds.length > MAX_BULK_RUNS) {
    throw invalidParameter(`GetMetricHistoryBulkInterval request must specify at most ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`);
  }
  const key = fields.requiredString('metric_key');
  const startStep = fields.int64('start_step');
  const endStep = fields.int64('end_step');
  if ((startStep === undefined) !== (endStep === undefined)) {
    throw invalidParameter('If either start step or end step are specified, both must be specified.');
  }
  if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
    throw invalidParameter(`end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`);
  }
  const maxResults = fields.count('max_results') ?? MAX_RESULTS_PER_RUN;
  if (maxResults < 1 || maxResults > MAX_RESULTS_PER_RUN) throw invalidParameter(`max_results must be between 1 and ${MAX_RESULTS_PER_RUN}.`);
  // Tracking keeps at least two points per run (the first and last of the range).
  const { series } = await metrics(call).getSampledMetricHistory({ runIds, key, startStep, endStep, maxPoints: Math.max(maxResults, 2) }, call.rpc.options);
  return {
    metrics: series.flatMap((one) => one.metrics.map((metric) => ({ ...metricJson(metric), run_id: one.runId }))),
  };
}

/**
 * The full history of one metric of several runs (the UI's `get-history-bulk`, `run_id` repeated),
 * as `metrics[]` with `run_id`, run by run in the order asked, each in logged order, at most
 * `max_results` points in all (25,000 by default and at most, as MLflow).
 */
async function getHistoryBulk(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const runIds = fields.strings('run_id');
  if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
  if (runIds.length > MAX_BULK_RUNS) throw invalidParameter(`GetMetricHistoryBulk request cannot specify more than ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`);
  const key = fields.requiredString('metric_key');
  const maxResults = fields.count('max_results') ?? MAX_HISTORY_PAGE;
  if (maxResults < 1 || maxResults > MAX_HISTORY_PAGE) throw invalidParameter(`max_results must be between 1 and ${MAX_HISTORY_PAGE}.`);
  const points: unknown[] = [];
  for (const runId of runIds) {
    let pageToken = '';
    do {
      const page = await metrics(call).getMetricHistory({ runId, key, pageSize: maxResults - points.length, pageToken }, call.rpc.options);
      for (const metric of page.metrics) points.push({ ...metricJson(metric), run_id: runId });
      pageToken = page.nextPageToken;
    } while (pageToken && points.length < maxResults);
    if (points.length >= maxResults) break;
  }
  return { metrics: points };
}

/** Metric histories. */
export const metricRoutes: readonly MlflowRoute[] = [
  { method: 'GET', path: '/mlflow/metrics/get-history-bulk', handle: getHistoryBulk },
  { method: 'GET', path: '/mlflow/metrics/get-history', handle: getHistory, streams: true },
  { method: 'GET', path: '/mlflow/metrics/get-history-bulk-interval', handle: getHistoryBulkInterval },
];
