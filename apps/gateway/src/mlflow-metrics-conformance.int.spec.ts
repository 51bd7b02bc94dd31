import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { trackingService } from '@trellis/tracking';
import { startMlflowStack, type Json, type MlflowStack, type PythonClient } from './mlflow-python-client';

/** Metric histories through MLflow's REST API, checked against what MLflow's server answers. */
describe('metric histories over the MLflow REST API', () => {
  let stack: MlflowStack;
  let client: PythonClient;
  let experimentId: string;

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, trackingService]);
    client = stack.client;
    experimentId = (await client.setExperiment('histories')).experiment_id;
  });

  afterAll(() => stack?.stop());

  const newRun = async (metrics: Json[]) => {
    const runId = (await client.startRun(experimentId)).info.run_id as string;
    for (let i = 0; i < metrics.length; i += 1000) await client.ok('POST', 'runs/log-batch', { run_id: runId, metrics: metrics.slice(i, i + 1000) });
    return runId;
  };
  const points = (steps: number[], value: (step: number) => number | string = (step) => step / 10) =>
    steps.map((step) => ({ key: 'loss', value: value(step), timestamp: 1_700_000_000_000 + step, step }));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const refusal = async (endpoint: string, fields: Json) => (await client.call('GET', `/api/2.0/mlflow/metrics/${endpoint}`, fields)).body;

  describe('get-history', () => {
    it('streams a history of several upstream chunks as one document, NaN and infinities as strings', async () => {
      const special: Record<number, string> = { 3: 'NaN', 40_000: 'Infinity', 50_999: '-Infinity' };
      const runId = await newRun(points(range(0, 50_999), (step) => special[step] ?? step / 4));
      const { metrics } = await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
      expect(metrics).toHaveLength(51_000);
      expect(metrics[3]).toEqual({ key: 'loss', value: 'NaN', timestamp: 1_700_000_000_003, step: 3 });
      expect([metrics[40_000].value, metrics[50_999].value, metrics[50_001].value]).toEqual(['Infinity', '-Infinity', 12_500.25]);
      expect((metrics as Json[]).every((metric, i) => metric.step === i)).toBe(true);
    });

    it('pages with max_results and page_token', async () => {
      const runId = await newRun(points(range(0, 9)));
      const first = await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss', max_results: 6 });
      expect(first.metrics.map((metric: Json) => metric.step)).toEqual(range(0, 5));
      const rest = await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss', max_results: 6, page_token: first.next_page_token });
      expect(rest).toEqual({ metrics: points(range(6, 9)) });
    });
  });

  describe('get-history-bulk', () => {
    it("orders the runs by run id and each run's points by timestamp, then step, as MLflow's store does, before max_results cuts", async () => {
      const late = { key: 'loss', value: 9, timestamp: 1_600_000_000_000, step: 7 };
      const runs = [await newRun(points([0, 1, 2])), await newRun([...points([5, 6]), late]), await newRun(points([3, 4, 8]))];
      const { metrics } = await client.ok('GET', 'metrics/get-history-bulk', { run_id: [runs[2], runs[0], runs[1], runs[0]], metric_key: 'loss' });
      const sorted = [...runs].sort();
      expect((metrics as Json[]).map((metric) => metric.run_id)).toEqual(sorted.flatMap((runId) => [runId, runId, runId]));
      expect((metrics as Json[]).filter((metric) => metric.run_id === runs[1]).map((metric) => metric.step)).toEqual([7, 5, 6]);
      expect(metrics).toContainEqual({ key: 'loss', value: 0.3, timestamp: 1_700_000_000_003, step: 3, run_id: runs[2] });
      // A cut inside the run whose last logged point is its earliest keeps that point.
      const cut = 3 * sorted.indexOf(runs[1]) + 1;
      const capped = await client.ok('GET', 'metrics/get-history-bulk', { run_id: runs, metric_key: 'loss', max_results: cut });
      expect(capped.metrics).toEqual(metrics.slice(0, cut));
      expect(capped.metrics.at(-1)).toEqual({ ...late, run_id: runs[1] });
      expect((await client.ok('GET', 'metrics/get-history-bulk', { run_id: runs, metric_key: 'loss', max_results: 1_000_000 })).metrics).toHaveLength(9);
    });

    it("refuses a request without runs or metric_key in MLflow's words", async () => {
      expect(await refusal('get-history-bulk', { metric_key: 'loss' })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'GetMetricHistoryBulk request must specify at least one run_id.',
      });
      expect(await refusal('get-history-bulk', { run_id: 'r' })).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'GetMetricHistoryBulk request must specify a metric_key.' });
      expect(await refusal('get-history-bulk', { run_id: range(0, 100).map(String), metric_key: 'loss' })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.',
      });
    });
  });

  describe('get-history-bulk-interval', () => {
    it('keeps the steps MLflow keeps: 10 steps to max_results 5 gives 0, 2, 4, 6, 8 and 9', async () => {
      const runId = await newRun(points(range(0, 9)));
      const { metrics } = await client.ok('GET', 'metrics/get-history-bulk-interval', { run_ids: runId, metric_key: 'loss', max_results: 5 });
      expect(metrics).toEqual([0, 2, 4, 6, 8, 9].map((step) => ({ ...points([step])[0], run_id: runId })));
    });

    it('lines the runs up on the steps chosen among all of theirs, each run with its own first and last, from step 0 without a range', async () => {
      const even = await newRun(points(range(-5, 99).filter((step) => step % 2 === 0)));
      const odd = await newRun(points(range(1, 41).filter((step) => step % 2 === 1)));
      const { metrics } = await client.ok('GET', 'metrics/get-history-bulk-interval', { run_ids: [odd, even], metric_key: 'loss', max_results: 10 });
      const stepsOf = (runId: string) => (metrics as Json[]).filter((metric) => metric.run_id === runId).map((metric) => metric.step);
      // 71 distinct steps from 0 to 98 (0 to 42, then even): those at positions 0, 7, 14 ... 63 and 70, and the odd run's first and last.
      expect(stepsOf(odd)).toEqual([1, 7, 21, 35, 41]);
      expect(stepsOf(even)).toEqual([0, 14, 28, 42, 56, 70, 84, 98]);
      expect((metrics as Json[]).map((metric) => metric.run_id)).toEqual([...Array(5).fill(odd), ...Array(8).fill(even)]);
      const zoomed = await client.ok('GET', 'metrics/get-history-bulk-interval', { run_ids: [odd, even], metric_key: 'loss', start_step: 30, end_step: 40, max_results: 3 });
      expect((zoomed.metrics as Json[]).map((metric) => [metric.run_id === odd ? 'odd' : 'even', metric.step])).toEqual([
        ['odd', 33],
        ['odd', 37],
        ['even', 30],
        ['even', 40],
      ]);
    });

    it("refuses what MLflow's handler refuses, in its words", async () => {
      const seeDocs = 'See the API docs for more information about request parameters.';
      expect(await refusal('get-history-bulk-interval', { metric_key: 'loss' })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Missing value for required parameter 'run_ids'. ${seeDocs}`,
      });
      expect(await refusal('get-history-bulk-interval', { run_ids: range(0, 100).map(String), metric_key: 'loss' })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids. ${seeDocs}`,
      });
      for (const maxResults of [0, 2501]) {
        expect(await refusal('get-history-bulk-interval', { run_ids: 'r', metric_key: 'loss', max_results: maxResults })).toEqual({
          error_code: 'INVALID_PARAMETER_VALUE',
          message: `max_results must be between 1 and 2500. ${seeDocs}`,
        });
      }
      expect(await refusal('get-history-bulk-interval', { run_ids: 'r', metric_key: 'loss', start_step: 3 })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'If either start step or end step are specified, both must be specified.',
      });
      expect(await refusal('get-history-bulk-interval', { run_ids: 'r', metric_key: 'loss', start_step: 5, end_step: 4 })).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'end_step must be greater than start_step. Found start_step=5 and end_step=4.',
      });
    });
  });
});
