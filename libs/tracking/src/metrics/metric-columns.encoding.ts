import type { UnknownField } from '@bufbuild/protobuf';
import { wireField, type WireMessage } from '@trellis/platform';
import { GetSampledMetricSeriesResponseSchema, type GetMetricSeriesResponseSchema, type MetricColumnsSchema, type StreamMetricSeriesResponseSchema } from '@trellis/proto';
import type { SampledMetric } from './metric.repository';
import type { SeriesColumns } from './metric-sampling';

/**
 * Metric series written straight to protobuf's wire format as packed `MetricColumns` by the kit's
 * wire writer, as the unknown fields of the response they go out in (see wireField). protobuf-es
 * encodes a repeated int64 by reflection, a BigInt per value: 40 ms for a series of 20,000 points,
 * where the writer takes about one.
 */

/** A sampled series of one run. */
export interface RunSeries extends SampledMetric {
  runId: string;
}

/** The response's `points`: the series `key` as one `MetricColumns`. */
export function encodedColumns(response: typeof GetMetricSeriesResponseSchema | typeof StreamMetricSeriesResponseSchema, key: string, points: SeriesColumns): UnknownField[] {
  return wireField(response, 'points', columns(key, points), bytesOf(key, points));
}

/** `GetSampledMetricSeriesResponse.series`: each run's series as a `SampledMetricSeries`. */
export function encodedSampledSeries(key: string, series: readonly RunSeries[]): UnknownField[] {
  const bytes = series.reduce((sum, { runId, points }) => sum + runId.length + bytesOf(key, points), 0);
  return wireField(GetSampledMetricSeriesResponseSchema, 'series', series.map(({ runId, points, totalPoints }) => ({ runId, points: columns(key, points), totalPoints })), bytes);
}

function columns(key: string, { steps, timestampsMs, values }: SeriesColumns): WireMessage<typeof MetricColumnsSchema> {
  return { key, steps, timestampsMs, values };
}

/** At most how many bytes a MetricColumns of `points` takes: 10 per int64, 8 per double. */
function bytesOf(key: string, points: SeriesColumns): number {
  return 64 + 3 * key.length + 28 * points.steps.length;
}
