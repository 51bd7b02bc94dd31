import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { trackingService } from '@trellis/tracking';
import { startMlflowStack, type Json, type MlflowStack, type PythonClient } from './mlflow-python-client';

/** A log-batch of 2 keys x 500 steps, NaN among them as MLflow's client sends it, and a point repeated inside the batch. */
const batch: Json[] = Array.from({ length: 999 }, (_, i) => {
  const step = Math.floor(i / 2);
  return { key: i % 2 ? 'acc' : 'loss', value: step === 7 ? 'NaN' : step / 8, timestamp: 1_767_000_000_000 + step, step };
});
batch.push(batch[0]);

describe('an MLflow log-batch sent again (the client retries a 503 whose batch was stored)', () => {
  let stack: MlflowStack;
  let client: PythonClient;
  let experimentId: string;

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, trackingService]);
    client = stack.client;
    experimentId = (await client.setExperiment('retries')).experiment_id;
  });

  afterAll(() => stack?.stop());

  const runLogged = async (times: number) => {
    const runId = (await client.startRun(experimentId)).info.run_id as string;
    for (let time = 0; time < times; time++) await client.ok('POST', 'runs/log-batch', { run_id: runId, metrics: batch });
    return runId;
  };
  /** What MLflow's client and UI read of a run's metrics, its run id replaced, to compare runs. */
  const readings = async (runId: string) => {
    const { run } = await client.ok('GET', 'runs/get', { run_id: runId });
    const history = await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
    const interval = await client.ok('GET', 'metrics/get-history-bulk-interval', { run_ids: runId, metric_key: 'loss', max_results: 20 });
    return {
      latest: run.data.metrics,
      history: history.metrics,
      sampled: (interval.metrics as Json[]).map((metric) => ({ ...metric, run_id: metric.run_id === runId ? 'this run' : metric.run_id })),
    };
  };

  it('stores each point once, as MLflow does: the run reads as one that got the batch once', async () => {
    const once = await runLogged(1);
    const thrice = await runLogged(3);

    const expected = await readings(once);
    expect(expected.history).toHaveLength(500);
    expect(expected.history[7]).toEqual({ key: 'loss', value: 'NaN', timestamp: 1_767_000_000_007, step: 7 });
    expect(await readings(thrice)).toEqual(expected);
  });
});
