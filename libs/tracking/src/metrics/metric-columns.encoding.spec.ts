import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { GetMetricSeriesResponseSchema, GetSampledMetricSeriesResponseSchema, StreamMetricSeriesResponseSchema } from '@trellis/proto';
import { encodedColumns, encodedSampledSeries } from './metric-columns.encoding';
import type { SeriesColumns } from './metric-sampling';

const awkward: SeriesColumns = {
  steps: [0, 1, -5, 2 ** 53 - 1, 127, 128, -(2 ** 53 - 1)],
  timestampsMs: [0, 1_767_225_600_000, 1, 2 ** 53 - 1, 300, 16_384, 5],
  values: [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, -1.7976931348623157e308],
};

const init = (key: string, points: SeriesColumns) => ({ key, steps: points.steps.map(BigInt), timestampsMs: points.timestampsMs.map(BigInt), values: points.values });

describe('metric columns encoded straight to the wire', () => {
  it.each([
    ['awkward values', 'loss', awkward],
    ['no points', 'empty', { steps: [], timestampsMs: [], values: [] }],
    ['a key longer than 127 bytes', `ü${'k'.repeat(200)}`, { steps: [1], timestampsMs: [2], values: [3] }],
  ])('writes a page as protobuf-es would (%s)', (_, key, points) => {
    const fast = create(GetMetricSeriesResponseSchema, { nextPageToken: 'next' });
    fast.$unknown = encodedColumns(GetMetricSeriesResponseSchema, key, points);
    const reference = create(GetMetricSeriesResponseSchema, { points: init(key, points), nextPageToken: 'next' });
    expect(fromBinary(GetMetricSeriesResponseSchema, toBinary(GetMetricSeriesResponseSchema, fast))).toEqual(
      fromBinary(GetMetricSeriesResponseSchema, toBinary(GetMetricSeriesResponseSchema, reference)),
    );
    expect(fromBinary(GetMetricSeriesResponseSchema, toBinary(GetMetricSeriesResponseSchema, fast)).points?.values).toEqual(points.values);
  });

  it('writes a chunk of a stream as protobuf-es would', () => {
    const fast = create(StreamMetricSeriesResponseSchema);
    fast.$unknown = encodedColumns(StreamMetricSeriesResponseSchema, 'loss', awkward);
    const reference = create(StreamMetricSeriesResponseSchema, { points: init('loss', awkward) });
    expect(toBinary(StreamMetricSeriesResponseSchema, fast)).toEqual(toBinary(StreamMetricSeriesResponseSchema, reference));
  });

  it("writes every run's sampled series as protobuf-es would, in order", () => {
    const series = [
      { runId: 'a'.repeat(32), points: awkward, totalPoints: 70_000 },
      { runId: 'b'.repeat(32), points: { steps: [], timestampsMs: [], values: [] }, totalPoints: 0 },
      { runId: 'c'.repeat(32), points: { steps: [3], timestampsMs: [4], values: [0.5] }, totalPoints: 1 },
    ];
    const fast = create(GetSampledMetricSeriesResponseSchema);
    fast.$unknown = encodedSampledSeries('loss', series);
    const reference = create(GetSampledMetricSeriesResponseSchema, {
      series: series.map(({ runId, points, totalPoints }) => ({ runId, points: init('loss', points), totalPoints: BigInt(totalPoints) })),
    });
    expect(toBinary(GetSampledMetricSeriesResponseSchema, fast)).toEqual(toBinary(GetSampledMetricSeriesResponseSchema, reference));
    expect(encodedSampledSeries('loss', [])).toEqual([]);
  });
});
