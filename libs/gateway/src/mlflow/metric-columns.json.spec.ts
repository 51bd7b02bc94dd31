import { create } from '@bufbuild/protobuf';
import { MetricColumnsSchema, MetricSchema, type MetricColumns } from '@trellis/proto';
import { byTimestamp, MetricsJson } from './metric-columns.json';
import { metricJson } from './mlflow-json';

const columns = (key: string, points: Array<[step: number, timestamp: number, value: number]>): MetricColumns =>
  create(MetricColumnsSchema, {
    key,
    steps: points.map(([step]) => BigInt(step)),
    timestampsMs: points.map(([, timestamp]) => BigInt(timestamp)),
    values: points.map(([, , value]) => value),
  });

/** What JSON.stringify writes of MLflow's metric objects, the reference. */
const reference = (series: MetricColumns, runId?: string, order?: number[]) =>
  (order ?? series.steps.map((_, i) => i)).map((i) => {
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

  it('joins several series with their run ids, in the order given, over blocks of points and pieces of 64 KiB', () => {
    const long = columns('loss', Array.from({ length: 5000 }, (_, i) => [i, 1_767_225_600_000 + i, Math.sin(i)]));
    const json = new MetricsJson('[').add(awkward, 'a'.repeat(32), [9, 0, 4]).add(columns('empty', [])).add(long, 'b"c').text(']');
    expect(json.count).toBe(5003);
    const pieces = json.finish();
    expect(pieces.length).toBeGreaterThan(1);
    expect(Buffer.concat(pieces).toString()).toBe(JSON.stringify([...reference(awkward, 'a'.repeat(32), [9, 0, 4]), ...reference(long, 'b"c')]));
    expect(Buffer.concat(new MetricsJson('[').add(undefined).text(']').finish()).toString()).toBe('[]');
    const backwards = Array.from({ length: 5000 }, (_, i) => 4999 - i);
    expect(Buffer.concat(new MetricsJson().add(long, undefined, backwards).finish()).toString()).toBe(JSON.stringify(reference(long, undefined, backwards)).slice(1, -1));
    const longText = 'x'.repeat(100_000);
    expect(Buffer.concat(new MetricsJson('[').text(longText).finish()).toString()).toBe(`[${longText}`);
  });
});

describe('byTimestamp', () => {
  it('orders by timestamp, then step, then value (NaN last), keeping logged order on ties; nothing when already in order', () => {
    expect(byTimestamp(columns('k', [[0, 1, 1], [1, 2, 1], [1, 2, 2]]))).toBeUndefined();
    expect(byTimestamp(columns('k', [[5, 3, 0], [1, 2, Number.NaN], [1, 2, 7], [0, 2, 9], [2, 1, 0], [2, 1, 0]]))).toEqual([4, 5, 3, 2, 1, 0]);
    expect(byTimestamp(undefined)).toBeUndefined();
  });
});
