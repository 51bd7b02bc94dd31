import { create } from '@bufbuild/protobuf';
import { MetricColumnsSchema, MetricSchema, type MetricColumns } from '@trellis/proto';
import { earliestPoints, MetricsJson } from './metric-columns.json';
import { metricJson } from './mlflow-json';

const columns = (key: string, points: Array<[step: number, timestamp: number, value: number]>): MetricColumns =>
  create(MetricColumnsSchema, {
    key,
    steps: points.map(([step]) => BigInt(step)),
    timestampsMs: points.map(([, timestamp]) => BigInt(timestamp)),
    values: points.map(([, , value]) => value),
  });

/** What JSON.stringify writes of MLflow's metric objects, the reference. */
const reference = (series: MetricColumns, runId?: string) =>
  series.steps.map((_, i) => {
    const metric = metricJson(create(MetricSchema, { key: series.key, step: series.steps[i], timestampMs: series.timestampsMs[i], value: series.values[i] }));
    return runId === undefined ? metric : { ...metric, run_id: runId };
  });

const awkward = columns('val/loss ü', [
  [0, 0, 0],
  [1, 1_767_225_600_000, -0],
  [-5, 9_007_199_254_740_991, Number.NaN],
  [9_007_199_254_740_991, 10, Number.POSITIVE_INFINITY],
  [-9_007_199_254_740_991, 99, Number.NEGATIVE_INFINITY],
  [7, 100, 5e-324],
  [8, 1000, 1e21],
  [9, 10_000, -1.7976931348623157e308],
  [10, 123_456_789, 0.1 + 0.2],
  [11, 5, 1 / 3],
]);

describe('MetricsJson', () => {
  it('writes the JSON that JSON.stringify writes of the metric objects, NaN and infinities as strings', () => {
    const text = Buffer.concat(new MetricsJson('{"metrics":[').add(awkward).text(']}').finish()).toString();
    expect(text).toBe(JSON.stringify({ metrics: reference(awkward) }));
    expect(JSON.parse(text).metrics.map((m: { value: unknown }) => m.value)).toEqual([0, 0, 'NaN', 'Infinity', '-Infinity', 5e-324, 1e21, -1.7976931348623157e308, 0.30000000000000004, 1 / 3]);
  });

  it('joins several series with their run ids, over blocks of points and pieces of 64 KiB', () => {
    const long = columns('loss', Array.from({ length: 5000 }, (_, i) => [i, 1_767_225_600_000 + i, Math.sin(i)]));
    const json = new MetricsJson('[').add(awkward, 'a'.repeat(32)).add(columns('empty', [])).add(long, 'b"c').text(']');
    expect(json.count).toBe(5010);
    const pieces = json.finish();
    expect(pieces.length).toBeGreaterThan(1);
    expect(Buffer.concat(pieces).toString()).toBe(JSON.stringify([...reference(awkward, 'a'.repeat(32)), ...reference(long, 'b"c')]));
    expect(Buffer.concat(new MetricsJson('[').add(undefined).text(']').finish()).toString()).toBe('[]');
    const longText = 'x'.repeat(100_000);
    expect(Buffer.concat(new MetricsJson('[').text(longText).finish()).toString()).toBe(`[${longText}`);
  });
});

describe('earliestPoints', () => {
  const stepsOf = (points: MetricColumns | undefined) => points?.steps.map(Number);

  it('orders by timestamp, then step, then value (NaN last), then as logged, and keeps the first `limit`', () => {
    const shuffled = columns('k', [[5, 3, 0], [1, 2, Number.NaN], [1, 2, 7], [0, 2, 9], [2, 1, 0], [6, 1, 0]]);
    expect(stepsOf(earliestPoints([shuffled], 10))).toEqual([2, 6, 0, 1, 1, 5]);
    expect(earliestPoints([shuffled], 10)?.values).toEqual([0, 0, 9, 7, Number.NaN, 0]);
    expect(stepsOf(earliestPoints([shuffled], 2))).toEqual([2, 6]);
  });

  it('chooses among every part, and answers a part already in order and within the limit as it is', () => {
    const inOrder = columns('k', [[0, 1, 1], [1, 2, 1], [1, 2, 2]]);
    expect(earliestPoints([inOrder], 3)).toBe(inOrder);
    expect(stepsOf(earliestPoints([inOrder, columns('k', [[9, 0, 0]])], 2))).toEqual([9, 0]);
    expect(earliestPoints([undefined, columns('k', [])], 5)).toBeUndefined();
  });
});
