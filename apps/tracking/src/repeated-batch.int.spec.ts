import type { GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { ExperimentServiceDesc, MetricServiceDesc, RunServiceDesc } from '@trellis/proto';
import { trackingService } from '@trellis/tracking';

/** A LogBatch of 2 keys x 600 steps, a NaN among them, as a retrying client sends it again. */
const batch = Array.from({ length: 1200 }, (_, i) => {
  const step = Math.floor(i / 2);
  return { key: i % 2 ? 'acc' : 'loss', value: step === 7 ? Number.NaN : Math.cos(step / 30), step: BigInt(step), timestampMs: BigInt(1_767_000_000_000 + step) };
});

describe('a LogBatch sent again over gRPC (a client retrying after an answer it did not get)', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let runs: GrpcClient<(typeof RunServiceDesc)['method']>;
  let metrics: GrpcClient<(typeof MetricServiceDesc)['method']>;
  let experimentId: string;

  beforeAll(async () => {
    platform = await TestPlatform.start({}, { plugins: [storageFs] });
    service = await platform.startService(trackingService);
    const claims = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
    runs = await platform.client(RunServiceDesc, service.grpcAddress, claims);
    metrics = await platform.client(MetricServiceDesc, service.grpcAddress, claims);
    const experiments = await platform.client(ExperimentServiceDesc, service.grpcAddress, claims);
    experimentId = (await experiments.createExperiment({ projectId: 'p1', name: 'retries' })).experiment!.id;
  });

  afterAll(() => platform?.stop());

  /** A run that got the batch `times` times (1000 points per LogBatch at most). */
  const runLogged = async (times: number) => {
    const { id: runId } = (await runs.createRun({ experimentId })).run!.info!;
    for (let time = 0; time < times; time++) {
      for (let i = 0; i < batch.length; i += 1000) await runs.logBatch({ runId, metrics: batch.slice(i, i + 1000) });
    }
    return runId;
  };
  /** What readers see of a run: its latest metrics, a whole series, and series sampled from rollups and evenly by step. */
  const readings = async (runId: string) => {
    const sampled = async (sampling: number, maxPoints: number, startStep?: bigint) =>
      (await metrics.getSampledMetricSeries({ runIds: [runId], key: 'loss', maxPoints, sampling, startStep })).series.map(({ points, totalPoints }) => ({ points, totalPoints }));
    return {
      latest: (await runs.getRun({ runId })).run!.data!.metrics.map(({ key, value, step, timestampMs }) => ({ key, value, step, timestampMs })),
      series: (await metrics.getMetricSeries({ runId, key: 'acc' })).points,
      extremes: await sampled(1, 40),
      extremesInRange: await sampled(1, 20, 100n),
      evenSteps: await sampled(2, 25),
    };
  };

  it('stores each point once: history, latest metrics and sampled series read as after one LogBatch', async () => {
    const once = await runLogged(1);
    const twice = await runLogged(2);

    const expected = await readings(once);
    expect(expected.series?.steps).toHaveLength(600);
    expect(expected.extremes[0].totalPoints).toBe(600n);
    expect(await readings(twice)).toEqual(expected);
  });
});
