import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { trackingService } from '@trellis/tracking';
import { startMlflowStack, type MlflowStack } from './mlflow-python-client';

/** What MLflow clients may send that once answered 500: each is a 400 INVALID_PARAMETER_VALUE naming the limit or the field. */
describe('the MLflow REST API on client input past its limits', () => {
  let stack: MlflowStack;
  let experimentId: string;
  let runId: string;

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, trackingService]);
    experimentId = (await stack.client.setExperiment('limits')).experiment_id as string;
    runId = (await stack.client.startRun(experimentId)).info.run_id as string;
  });

  afterAll(() => stack?.stop());

  const refused = (message: unknown) => ({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message } });

  it('refuses tags nested 100,000 levels deep, naming the depth limit', async () => {
    const body = `{"name": "deep", "tags": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const response = await fetch(`${stack.base}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...stack.client.authorization },
    });
    expect({ status: response.status, body: await response.json() }).toEqual(refused('the request body nests deeper than 64 levels'));
  });

  it.each([
    [1000, 'filter: has more than 100 comparisons (comparison 101 starts at position 1800); the limit is 100'],
    // Past 64 KiB the kit refuses it first, by the limit the proto declares.
    [5000, expect.stringMatching(/^filter: .*65536 characters$/)],
  ])('refuses runs/search and experiments/search filters of %d AND clauses, naming the limit', async (count: number, message: unknown) => {
    const filter = Array.from({ length: count }, () => "tags.a = 'xy'").join(' AND ');
    expect(await stack.client.call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experimentId], filter })).toEqual(refused(message));
    expect(await stack.client.call('POST', '/api/2.0/mlflow/experiments/search', { filter })).toEqual(refused(message));
  });

  it('refuses NUL in names and values, naming the field', async () => {
    expect(await stack.client.call('POST', '/api/2.0/mlflow/experiments/create', { name: 'a\0b' })).toMatchObject(refused(/^name: contains the control character U\+0000/));
    expect(await stack.client.call('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, run_name: 'r\0' })).toMatchObject(refused(/^run_name: /));
    const batch = { run_id: runId, params: [{ key: 'lr', value: '0.1\0' }] };
    expect(await stack.client.call('POST', '/api/2.0/mlflow/runs/log-batch', batch)).toMatchObject(refused(/^params\[0\]\.value: contains a NUL character/));
  });
});
