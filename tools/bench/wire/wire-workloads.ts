// The three messages services write with the kit's wire writer, at the sizes the tracking
// benchmarks use, built the same on every run (a fixed-seed generator).
import type { RunView } from '../../../libs/tracking/src/runs/run.service';
import type { RunSeries } from '../../../libs/tracking/src/metrics/metric-columns.encoding';
import type { SeriesColumns } from '../../../libs/tracking/src/metrics/metric-sampling';
import { seededUniforms } from '@trellis/testing';

const hexId = (random: () => number) => Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');

/** A page of `count` runs as search hydrates them: 20 params, 10 latest metrics, 3 tags, no inputs (search.bench.ts's seed). */
export function searchPage(count = 1000): RunView[] {
  const random = seededUniforms(7);
  return Array.from({ length: count }, (_, i) => {
    const id = hexId(random);
    const run = {
      id,
      experimentId: 1,
      projectId: 'bench',
      name: `run-${i}`,
      userId: 'bench',
      status: 'FINISHED',
      startTime: 1_767_225_600_000 + i * 1000,
      endTime: 1_767_225_700_000 + i * 1000,
      artifactUri: `mlflow-artifacts:/1/${id}/artifacts`,
      artifactStore: 'default',
      lifecycleStage: 'active',
      parentRunId: null,
      deletedWithExperiment: false,
    };
    return {
      run: run as unknown as RunView['run'],
      params: Array.from({ length: 20 }, (_, p) => ({ key: `p${p}`, value: `v${Math.floor(random() * 10)}` })),
      tags: [
        { key: 'team', value: ['vision', 'speech', 'ranking', 'forecasting'][i % 4] },
        { key: 'mlflow.runName', value: `run-${i}` },
        { key: 'mlflow.user', value: 'bench' },
      ],
      metrics: Array.from({ length: 10 }, (_, m) => ({ key: `m${m}`, value: random(), timestampMs: 1_767_225_600_000 + i, step: 99 })),
      inputs: [],
    };
  });
}

/** One series of `points` points as the store reads it. */
export function series(points = 20_000): SeriesColumns {
  const random = seededUniforms(11);
  return {
    steps: Array.from({ length: points }, (_, step) => step),
    timestampsMs: Array.from({ length: points }, (_, step) => 1_767_225_600_000 + step * 10),
    values: Array.from({ length: points }, () => random()),
  };
}

/** `runs` runs' series of `points` points each, as GetSampledMetricSeries answers for MLflow's bulk-interval route. */
export function sampledSeries(runs = 10, points = 2500): RunSeries[] {
  return Array.from({ length: runs }, (_, i) => ({ runId: hexId(seededUniforms(i)), points: series(points), totalPoints: points * 8 }));
}

/** The metrics of one MLflow log-batch body as JSON.parse returns them: 10 keys x 100 steps. */
export function logBatchMetrics(batch = 0): unknown[] {
  const metrics: unknown[] = [];
  for (let s = 0; s < 100; s++) {
    const step = batch * 100 + s;
    for (let k = 0; k < 10; k++) metrics.push({ key: `metric_${k}`, value: Math.sin(step + k), timestamp: 1_700_000_000_000 + step, step });
  }
  return JSON.parse(JSON.stringify(metrics));
}
