import { Metrics } from '@trellis/platform';
import { RevisionMetrics, WINDOW_SECONDS } from './revision-metrics';

describe('RevisionMetrics', () => {
  const t0 = Date.UTC(2026, 11, 1, 12, 0, 0);

  it('counts requests and errors of a revision since a moment, with the p99 of their latencies', () => {
    const metrics = new RevisionMetrics(new Metrics());
    metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: 50, error: false }, t0 - 5000);
    for (let index = 1; index <= 100; index++) metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: index, error: index % 10 === 0 }, t0 + index);
    metrics.record({ endpoint: 'fraud', revisionId: 'r2', latencyMs: 7, error: true }, t0);

    expect(metrics.window('r1', t0, t0 + 200)).toEqual({ requests: 100, errors: 10, p99Ms: 99 });
    expect(metrics.window('r1', t0 - 10_000, t0 + 200)).toEqual({ requests: 101, errors: 10, p99Ms: 99 });
    expect(metrics.window('r2', t0, t0 + 200)).toEqual({ requests: 1, errors: 1, p99Ms: 7 });
    expect(metrics.window('unknown', t0)).toEqual({ requests: 0, errors: 0, p99Ms: undefined });
  });

  it('reaches back at most its window, whatever `since` asks', () => {
    const metrics = new RevisionMetrics(new Metrics());
    metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: 1, error: true }, t0);
    const later = t0 + WINDOW_SECONDS * 1000;
    metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: 2, error: false }, later);
    expect(metrics.window('r1', 0, later)).toMatchObject({ requests: 1, errors: 0 });
  });

  it('shows requests, latency and runtime batch sizes per endpoint and revision on the registry', async () => {
    const kit = new Metrics();
    const metrics = new RevisionMetrics(kit);
    metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: 3, error: false });
    metrics.record({ endpoint: 'fraud', revisionId: 'r1', latencyMs: 4, error: true });
    metrics.watchRuntime('fraud', 'r1', async () => ({ requests: 10, runs: 3, batchSizes: { 1: 1, 4: 1, 5: 1 }, queueDelayMs: 1500 }));
    const text = await kit.registry.metrics();
    expect(text).toContain('trellis_serving_requests_total{endpoint="fraud",revision="r1",outcome="ok"} 1');
    expect(text).toContain('trellis_serving_requests_total{endpoint="fraud",revision="r1",outcome="error"} 1');
    expect(text).toContain('trellis_serving_request_duration_seconds_count{endpoint="fraud",revision="r1"} 2');
    expect(text).toContain('trellis_serving_batch_size_runs{endpoint="fraud",revision="r1",le="4"} 2');
    expect(text).toContain('trellis_serving_batch_size_runs{endpoint="fraud",revision="r1",le="+Inf"} 3');
    expect(text).toContain('trellis_serving_queue_delay_seconds_total{endpoint="fraud",revision="r1"} 1.5');
    metrics.forget('r1');
    expect(await kit.registry.metrics()).not.toContain('revision="r1"');
  });
});
