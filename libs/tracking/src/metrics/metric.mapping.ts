import { create } from '@bufbuild/protobuf';
import { MetricSchema, type Metric } from '@trellis/proto';
import type { SeriesColumns } from './metric-sampling';
import type { MetricPoint } from './metric-store';

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
