import { Injectable } from '@nestjs/common';
import { Metrics } from '@trellis/platform';
import type { InferenceStats } from '@trellis/plugin-sdk';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** One answered (or failed) inference call of a revision. */
export interface RevisionSample {
  /** The endpoint's name (the model name clients call). */
  endpoint: string;
  revisionId: string;
  /** From the call reaching the revision's model to its answer. */
  latencyMs: number;
  /** Whether the model failed to answer (a request refused before it reached the model is not a sample). */
  error: boolean;
}

/** What a revision did since a moment: what progressive rollout's guards judge. */
export interface RevisionWindow {
  requests: number;
  errors: number;
  /** The 99th percentile of the latencies in the window; undefined when it holds no request. */
  p99Ms: number | undefined;
}

/** Seconds of per-second counts kept per revision: a window reaches back at most this far. */
export const WINDOW_SECONDS = 3600;
/** Latencies kept per revision for `p99Ms`: the most recent ones in the window. */
export const LATENCY_SAMPLES = 4096;
/** Samples a revision holds before handing them to prom-client, when nothing reads the metrics meanwhile. */
const PENDING = 1024;

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

type Labels = 'endpoint' | 'revision';

/** One revision's counts: per-second buckets for the windows, a latency ring for p99, and samples not yet in prom-client. */
class RevisionSeries {
  readonly second = new Float64Array(WINDOW_SECONDS).fill(-1);
  readonly requests = new Uint32Array(WINDOW_SECONDS);
  readonly errors = new Uint32Array(WINDOW_SECONDS);
  readonly latencyAt = new Float64Array(LATENCY_SAMPLES);
  readonly latencyMs = new Float64Array(LATENCY_SAMPLES);
  latencyCount = 0;
  pendingOk = 0;
  pendingErrors = 0;
  readonly pendingSeconds: number[] = [];
  /** The runtime counts of the revision's loaded model (batch sizes, queue delay), read when the metrics are. */
  stats?: () => Promise<InferenceStats>;

  constructor(readonly endpoint: string) {}
}

/**
 * Live statistics of each revision, fed by the inference path for every Open Inference Protocol
 * request (gRPC and REST) that reaches a revision's model:
 * - `window(revision, since)` answers what progressive rollout's guards need, from memory;
 * - Prometheus series on the kit's registry (`/metrics`), per endpoint and revision: requests by
 *   outcome, a latency histogram, and, read from the runtime when scraped, batch sizes and queue delay.
 *
 * `record` is a few array writes: samples reach prom-client (which hashes labels per update) in
 * batches, when the metrics are read or every 1,024 samples. Counts are this replica's own.
 */
@Injectable()
export class RevisionMetrics {
  private readonly series = new Map<string, RevisionSeries>();
  private readonly requests: Counter<Labels | 'outcome'>;
  private readonly latency: Histogram<Labels>;
  private readonly batchRuns: Gauge<Labels | 'le'>;
  private readonly queueDelay: Gauge<Labels>;
  private readonly modelRequests: Gauge<Labels>;
  private runtimeRead?: Promise<void>;

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    const flush = () => this.flushAll();
    this.requests = reuse(registry, 'trellis_serving_requests_total', () => new Counter({
      name: 'trellis_serving_requests_total',
      help: "Inference requests that reached a revision's model, by endpoint, revision and outcome (ok, error).",
      labelNames: ['endpoint', 'revision', 'outcome'] as const,
      registers: [registry],
      collect: flush,
    }));
    this.latency = reuse(registry, 'trellis_serving_request_duration_seconds', () => new Histogram({
      name: 'trellis_serving_request_duration_seconds',
      help: "Time a revision's model took to answer an inference request (batch queue included), in seconds.",
      labelNames: ['endpoint', 'revision'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
      collect: flush,
    }));
    // prom-client reads the metrics of a scrape at once: the three runtime gauges share one read of the runtimes.
    const runtime = () => (this.runtimeRead ??= this.collectRuntime().finally(() => (this.runtimeRead = undefined)));
    this.batchRuns = reuse(registry, 'trellis_serving_batch_size_runs', () => new Gauge({
      name: 'trellis_serving_batch_size_runs',
      help: "Runs of a revision's loaded model with at most `le` rows (dynamic batching), as a cumulative histogram since it was loaded in this replica.",
      labelNames: ['endpoint', 'revision', 'le'] as const,
      registers: [registry],
      collect: runtime,
    }));
    this.queueDelay = reuse(registry, 'trellis_serving_queue_delay_seconds_total', () => new Gauge({
      name: 'trellis_serving_queue_delay_seconds_total',
      help: "Time requests waited in a revision's batch queue before their run, added up since the model was loaded in this replica, in seconds.",
      labelNames: ['endpoint', 'revision'] as const,
      registers: [registry],
      collect: runtime,
    }));
    this.modelRequests = reuse(registry, 'trellis_serving_model_requests', () => new Gauge({
      name: 'trellis_serving_model_requests',
      help: "Requests a revision's loaded model ran since it was loaded in this replica (divide queue delay by it for the mean wait).",
      labelNames: ['endpoint', 'revision'] as const,
      registers: [registry],
      collect: runtime,
    }));
  }

  /** Records one request a revision's model answered or failed; cheap, synchronous. */
  record(sample: RevisionSample, now = Date.now()): void {
    let series = this.series.get(sample.revisionId);
    if (!series) {
      series = new RevisionSeries(sample.endpoint);
      this.series.set(sample.revisionId, series);
    }
    const second = Math.floor(now / 1000);
    const slot = second % WINDOW_SECONDS;
    if (series.second[slot] !== second) {
      series.second[slot] = second;
      series.requests[slot] = 0;
      series.errors[slot] = 0;
    }
    series.requests[slot] += 1;
    const at = series.latencyCount % LATENCY_SAMPLES;
    series.latencyAt[at] = now;
    series.latencyMs[at] = sample.latencyMs;
    series.latencyCount += 1;
    if (sample.error) {
      series.errors[slot] += 1;
      series.pendingErrors += 1;
    } else {
      series.pendingOk += 1;
    }
    series.pendingSeconds.push(sample.latencyMs / 1000);
    if (series.pendingSeconds.length >= PENDING) this.flush(sample.revisionId, series);
  }

  /** Lets `/metrics` read the batch sizes and queue delay of a revision's loaded model; the latest source wins. */
  watchRuntime(endpoint: string, revisionId: string, stats: () => Promise<InferenceStats>): void {
    let series = this.series.get(revisionId);
    if (!series) {
      series = new RevisionSeries(endpoint);
      this.series.set(revisionId, series);
    }
    series.stats = stats;
  }

  /**
   * What the revision answered since `sinceMs` (epoch milliseconds), in this replica: requests
   * and errors counted per second (so `sinceMs` is rounded down to its second, and reaches back at
   * most WINDOW_SECONDS), p99 over the latest LATENCY_SAMPLES latencies in the window.
   */
  window(revisionId: string, sinceMs: number, now = Date.now()): RevisionWindow {
    const series = this.series.get(revisionId);
    if (!series) return { requests: 0, errors: 0, p99Ms: undefined };
    const from = Math.max(Math.floor(sinceMs / 1000), Math.floor(now / 1000) - WINDOW_SECONDS + 1);
    let requests = 0;
    let errors = 0;
    for (let slot = 0; slot < WINDOW_SECONDS; slot++) {
      if (series.second[slot] >= from) {
        requests += series.requests[slot];
        errors += series.errors[slot];
      }
    }
    const latencies: number[] = [];
    const kept = Math.min(series.latencyCount, LATENCY_SAMPLES);
    for (let index = 0; index < kept; index++) if (series.latencyAt[index] >= sinceMs) latencies.push(series.latencyMs[index]);
    return { requests, errors, p99Ms: percentile(latencies, 0.99) };
  }

  /** Forgets a revision (deleted endpoint): its series leave `/metrics`. */
  forget(revisionId: string): void {
    const series = this.series.get(revisionId);
    if (!series) return;
    this.series.delete(revisionId);
    const labels = { endpoint: series.endpoint, revision: revisionId };
    this.requests.remove({ ...labels, outcome: 'ok' });
    this.requests.remove({ ...labels, outcome: 'error' });
    this.latency.remove(labels);
    this.queueDelay.remove(labels);
    this.modelRequests.remove(labels);
    for (const le of [...BATCH_BUCKETS.map(String), '+Inf']) this.batchRuns.remove({ ...labels, le });
  }

  private flushAll(): void {
    for (const [revisionId, series] of this.series) this.flush(revisionId, series);
  }

  private flush(revisionId: string, series: RevisionSeries): void {
    const labels = { endpoint: series.endpoint, revision: revisionId };
    if (series.pendingOk > 0) this.requests.inc({ ...labels, outcome: 'ok' }, series.pendingOk);
    if (series.pendingErrors > 0) this.requests.inc({ ...labels, outcome: 'error' }, series.pendingErrors);
    if (series.pendingSeconds.length > 0) {
      const histogram = this.latency.labels(labels);
      for (const seconds of series.pendingSeconds) histogram.observe(seconds);
    }
    series.pendingOk = 0;
    series.pendingErrors = 0;
    series.pendingSeconds.length = 0;
  }

  private async collectRuntime(): Promise<void> {
    await Promise.all(
      [...this.series].map(async ([revisionId, series]) => {
        if (!series.stats) return;
        const stats = await series.stats().catch(() => undefined);
        // An unloaded model answers no more: its runtime series go until it is loaded again.
        if (!stats) {
          series.stats = undefined;
          return;
        }
        const labels = { endpoint: series.endpoint, revision: revisionId };
        const sizes = Object.entries(stats.batchSizes).map(([rows, runs]) => [Number(rows), runs] as const);
        for (const le of BATCH_BUCKETS) this.batchRuns.set({ ...labels, le: String(le) }, sizes.reduce((sum, [rows, runs]) => (rows <= le ? sum + runs : sum), 0));
        this.batchRuns.set({ ...labels, le: '+Inf' }, stats.runs);
        this.queueDelay.set(labels, stats.queueDelayMs / 1000);
        this.modelRequests.set(labels, stats.requests);
      }),
    );
  }
}

/** The metric of that name already on the registry (several modules of one process), or a new one. */
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The nearest-rank percentile of `values`; undefined for none. */
export function percentile(values: number[], share: number): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil(share * values.length) - 1)];
}
