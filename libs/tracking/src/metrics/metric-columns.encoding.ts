import type { UnknownField } from '@bufbuild/protobuf';
import { WireWriter } from '../runs/wire-writer';
import type { SampledMetric } from './metric-store';
import type { SeriesColumns } from './metric-sampling';

/**
 * Metric series written straight to protobuf's wire format as packed `MetricColumns`, carried as
 * the one unknown field of the message they go out in (see WireWriter.unknownField). protobuf-es
 * encodes a repeated int64 by reflection, a BigInt per value: 40 ms for a series of 20,000 points,
 * where this takes about one. The bytes decode to what protobuf-es would write (a spec compares).
 */

/** A sampled series of one run. */
export interface RunSeries extends SampledMetric {
  runId: string;
}

/** Field `field` holding `points` of the series `key` as a `MetricColumns`. */
export function encodedColumns(field: number, key: string, points: SeriesColumns): UnknownField[] {
  return [writeColumns(new WireWriter(bytesOf(key, points)), field, key, points).unknownField(field)];
}

/** The repeated field `field` holding each run's series as a `SampledMetricSeries`. */
export function encodedSampledSeries(field: number, key: string, series: readonly RunSeries[]): UnknownField[] {
  if (series.length === 0) return [];
  const writer = new WireWriter(series.reduce((sum, { runId, points }) => sum + runId.length + bytesOf(key, points), 0));
  for (const { runId, points, totalPoints } of series) {
    writer.begin(field).string(1, runId);
    writeColumns(writer, 2, key, points).integer(3, totalPoints).end();
  }
  return [writer.unknownField(field)];
}

/** At most how many bytes a MetricColumns of `points` takes: 10 per int64, 8 per double. */
function bytesOf(key: string, points: SeriesColumns): number {
  return 64 + 3 * key.length + 28 * points.steps.length;
}

function writeColumns(writer: WireWriter, field: number, key: string, points: SeriesColumns): WireWriter {
  return writer.begin(field).string(1, key).integers(2, points.steps).integers(3, points.timestampsMs).doubles(4, points.values).end();
}
