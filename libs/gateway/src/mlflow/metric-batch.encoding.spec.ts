import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { LogBatchRequestSchema } from '@trellis/proto';
import { logBatchRequest } from './metric-batch.encoding';

describe('the log-batch request written from JSON', () => {
  const points = [
    { key: 'loss', value: 0.25, timestamp: 1_700_000_000_000, step: 3 },
    { key: 'acc', value: 0, timestamp: 0 },
    { key: 'grad', value: -0, timestamp: 5, step: -7 },
    { key: 'ünïcode/κλειδί', value: -1.5e300, timestamp: 2 ** 40, step: 2 ** 53 - 1 },
    { key: 'spelled', value: 'NaN', timestamp: '1700000000001', step: '12' },
    { key: 'inf', value: '-Infinity', timestamp: 1 },
    { key: `long_${'k'.repeat(245)}`, value: 1, timestamp: 1, step: 1 },
  ];
  const expected = [
    { key: 'loss', value: 0.25, timestampMs: 1_700_000_000_000n, step: 3n },
    { key: 'acc', value: 0, timestampMs: 0n, step: 0n },
    { key: 'grad', value: -0, timestampMs: 5n, step: -7n },
    { key: 'ünïcode/κλειδί', value: -1.5e300, timestampMs: 2n ** 40n, step: 2n ** 53n - 1n },
    { key: 'spelled', value: NaN, timestampMs: 1_700_000_000_001n, step: 12n },
    { key: 'inf', value: -Infinity, timestampMs: 1n, step: 0n },
    { key: `long_${'k'.repeat(245)}`, value: 1, timestampMs: 1n, step: 1n },
  ];

  it('decodes as the LogBatchRequest protobuf-es builds from the same points, params and tags', () => {
    const params = [{ key: 'lr', value: '0.1' }];
    const tags = [{ key: 'stage', value: 'dev' }];
    const decoded = fromBinary(LogBatchRequestSchema, toBinary(LogBatchRequestSchema, logBatchRequest('r1', points, params, tags)));
    expect(decoded).toEqual(create(LogBatchRequestSchema, { runId: 'r1', metrics: expected, params, tags }));
    expect(Object.is(decoded.metrics[2].value, -0)).toBe(true);
  });

  it('writes each metric with the bytes protobuf-es writes for it, across buffer growth', () => {
    const many = Array.from({ length: 300 }, (_, i) => points[i % points.length]);
    const written = toBinary(LogBatchRequestSchema, logBatchRequest('', many, [], []));
    const reference = toBinary(LogBatchRequestSchema, create(LogBatchRequestSchema, { metrics: many.map((_, i) => expected[i % expected.length]) }));
    expect(Buffer.from(written).equals(Buffer.from(reference))).toBe(true);
  });

  it('names the field of a point it refuses', () => {
    expect(() => logBatchRequest('r1', [points[0], { key: 'x', value: 1 }], [], [])).toThrow("Missing value for required parameter 'metrics[1].timestamp'");
    expect(() => logBatchRequest('r1', [{ key: 'x', value: false, timestamp: 1 }], [], [])).toThrow("'metrics[0].value'");
    expect(() => logBatchRequest('r1', [null], [], [])).toThrow("'metrics[0].key'");
  });
});
