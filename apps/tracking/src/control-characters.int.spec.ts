import { status, type ServiceError } from '@grpc/grpc-js';
import type { GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { ExperimentServiceDesc, RunServiceDesc } from '@trellis/proto';
import { serviceDatabases } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

describe.each(serviceDatabases('tracking'))('tracking on %s refuses control characters in names and NUL in values, naming the field', (_setup, setup) => {
  let cleanup: () => Promise<void>;
  let platform: TestPlatform;
  let service: RunningService;
  let experiments: GrpcClient<(typeof ExperimentServiceDesc)['method']>;
  let runs: GrpcClient<(typeof RunServiceDesc)['method']>;
  let experimentId: string;
  let runId: string;

  beforeAll(async () => {
    const { env, cleanup: drop } = await setup();
    cleanup = drop;
    platform = await TestPlatform.start(env, { plugins: [storageFs] });
    service = await platform.startService(trackingService);
    const claims = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
    experiments = await platform.client(ExperimentServiceDesc, service.grpcAddress, claims);
    runs = await platform.client(RunServiceDesc, service.grpcAddress, claims);
    experimentId = (await experiments.createExperiment({ projectId: 'p1', name: 'names' })).experiment!.id;
    runId = (await runs.createRun({ experimentId, runName: 'run' })).run!.info!.id;
  });

  afterAll(async () => {
    await platform?.stop();
    await cleanup?.();
  });

  const dataset = { name: 'train', digest: 'd1', sourceType: 'local', source: '{}', schema: '', profile: '' };

  it.each<[string, () => Promise<unknown>, string]>([
    ['an experiment name with a NUL', () => experiments.createExperiment({ projectId: 'p1', name: 'a\0b' }), 'name'],
    ['an experiment name with a line break', () => experiments.createExperiment({ projectId: 'p1', name: 'two\nlines' }), 'name'],
    ['a new experiment name with an escape', () => experiments.updateExperiment({ experimentId, name: 'red\u001b[31m', updateMask: { paths: ['name'] } }), 'name'],
    ['an experiment looked up by a name with a NUL', () => experiments.getExperimentByName({ projectId: 'p1', name: 'a\0' }), 'name'],
    ['an experiment tag value with a NUL', () => experiments.createExperiment({ projectId: 'p1', name: 'tagged', tags: [{ key: 'k', value: 'v\0' }] }), 'tags[0].value'],
    ['an experiment tag key with a NUL', () => experiments.setExperimentTag({ experimentId, tag: { key: 'k\0', value: 'v' } }), 'tag.key'],
    ['a run name with a NUL', () => runs.createRun({ experimentId, runName: 'r\0' }), 'run_name'],
    ['a run name with a tab, on update', () => runs.updateRun({ runId, runName: 'a\tb', updateMask: { paths: ['run_name'] } }), 'run_name'],
    ['a run user with a NUL', () => runs.createRun({ experimentId, userId: 'ann\0' }), 'user_id'],
    ['a run tag value with a NUL', () => runs.createRun({ experimentId, tags: [{ key: 'k', value: '\0' }] }), 'tags[0].value'],
    ['a param value with a NUL', () => runs.logParam({ runId, param: { key: 'lr', value: '0.1\0' } }), 'params[0].value'],
    ['a tag value with a NUL', () => runs.setTag({ runId, tag: { key: 'note', value: '\0' } }), 'tags[0].value'],
    ['a metric key with a NUL', () => runs.logMetric({ runId, metric: { key: 'loss\0', value: 1, timestampMs: 1n, step: 0n } }), 'metrics[0].key'],
    ['a dataset name with a line break', () => runs.logInputs({ runId, datasets: [{ dataset: { ...dataset, name: 'tr\nain' }, tags: [] }] }), 'datasets[0].dataset.name'],
    ['a dataset source with a NUL', () => runs.logInputs({ runId, datasets: [{ dataset: { ...dataset, source: '{"path": "\0"}' }, tags: [] }] }), 'datasets[0].dataset.source'],
    ['an input tag value with a NUL', () => runs.logInputs({ runId, datasets: [{ dataset, tags: [{ key: 'mlflow.data.context', value: '\0' }] }] }), 'datasets[0].tags[0].value'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_what, call, field) => {
    const error = await failure(call());
    expect([error?.code, error?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `))]);
  });

  it('stores line breaks and tabs in values as given', async () => {
    const text = 'first line\nsecond\tcolumn';
    await runs.setTag({ runId, tag: { key: 'note', value: text } });
    await runs.logParam({ runId, param: { key: 'notes', value: text } });
    await experiments.setExperimentTag({ experimentId, tag: { key: 'note', value: text } });
    const { run } = await runs.getRun({ runId });
    expect(run?.data?.tags).toContainEqual(expect.objectContaining({ key: 'note', value: text }));
    expect(run?.data?.params).toContainEqual(expect.objectContaining({ key: 'notes', value: text }));
    expect((await experiments.getExperiment({ experimentId })).experiment?.tags).toContainEqual(expect.objectContaining({ key: 'note', value: text }));
  });
});
