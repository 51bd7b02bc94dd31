import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '@trellis/platform';
import { MetricSampling, MetricSchema, type GetSampledMetricHistoryRequest, type Metric } from '@trellis/proto';
import type { SeriesColumns } from './metric-sampling';
import type { MetricPoint } from './metric.repository';
import type { SampleRequest } from './metric.service';

/** A stored point as the proto `Metric`. */
export function toMetricProto(point: MetricPoint): Metric {
  return create(MetricSchema, { key: point.key, value: point.value, timestampMs: BigInt(point.timestampMs), step: BigInt(point.step) });
}

/** A proto metric as a domain point; int64 fields beyond 2^53 are rejected by validation, not rounded silently. */
export function metricFromProto(metric: Metric | undefined): MetricPoint {
  return {
    key: metric?.key ?? '',
    value: metric?.value ?? 0,
    timestampMs: Number(metric?.timestampMs ?? 0n),
    step: Number(metric?.step ?? 0n),
  };
}

/** Columns of the series `key` as a message per point. */
export function metricsOf(key: string, points: SeriesColumns): Metric[] {
  return points.steps.map((step, i) => toMetricProto({ key, step, timestampMs: points.timestampsMs[i], value: points.values[i] }));
}

/** What a sampled read (either form) names, as the service takes it. */
export function sampleRequestOf(
  request: Pick<GetSampledMetricHistoryRequest, 'runIds' | 'key' | 'startStep' | 'endStep' | 'maxPoints'> & { sampling?: MetricSampling },
): SampleRequest {
  const sampling = request.sampling ?? MetricSampling.UNSPECIFIED;
  if (!(sampling in MetricSampling)) throw new InvalidArgumentError(`${sampling} is not a MetricSampling`, 'sampling');
  return {
    runIds: request.runIds,
    key: request.key,
    startStep: request.startStep === undefined ? undefined : Number(request.startStep),
    endStep: request.endStep === undefined ? undefined : Number(request.endStep),
    maxPoints: request.maxPoints,
    sampling: sampling === MetricSampling.EVEN_STEPS ? 'even-steps' : 'extremes',
  };
}
