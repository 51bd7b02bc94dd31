import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process. In standalone every service shares it; each series is
 * labelled with its gRPC service and method, so nothing collides.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Completed gRPC calls by service, method and status code (grpc-ecosystem naming). */
  readonly grpcHandled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'gRPC calls completed on the server, by status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [this.registry],
    collect: () => this.flushCalls(),
  });

  /** How long gRPC calls took on the server. */
  readonly grpcSeconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from receiving a gRPC call to answering it, in seconds.',
    labelNames: ['grpc_service', 'grpc_method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
    collect: () => this.flushCalls(),
  });

  /** Finished HTTP requests of an edge (the gateway), by route pattern, method and status. */
  readonly httpHandled = new Counter({
    name: 'trellis_http_requests_total',
    help: 'HTTP requests answered by an edge, by route pattern (not the path, to bound the series), method and status.',
    labelNames: ['edge', 'route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  /** How long an edge's HTTP requests took, to the last byte of the response. */
  readonly httpSeconds = new Histogram({
    name: 'trellis_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its response, in seconds.',
    labelNames: ['edge', 'route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** Denied calls not written to the audit log because one address sent too many. */
  readonly deniedCallsUnaudited = new Counter({
    name: 'trellis_denied_calls_unaudited_total',
    help: 'Denied calls counted here instead of the audit log: their client address exceeded the audit rate for denials.',
    registers: [this.registry],
  });

  /** Events of lossy high-volume streams that a `BatchPublisher` dropped instead of publishing, by subject. */
  readonly eventsDropped = new Counter({
    name: 'trellis_events_dropped_total',
    help: 'Events of lossy high-volume streams (batch publishing, no outbox) dropped before the event bus took them, by subject.',
    labelNames: ['subject'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private readonly calls = new Map<string, GrpcCallSeries>();

  /** Records one finished HTTP request of `edge`; `route` is the pattern that matched (`unmatched` when none did). */
  observeHttp(edge: string, route: string, method: string, status: number, startedAt: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.httpHandled.labels({ edge, route, method, status: String(status) }).inc();
    this.httpSeconds.labels({ edge, route, method }).observe(seconds);
  }

  /** The recorder of `service`'s `method` calls; keep it rather than asking per call. */
  grpcCalls(service: string, method: string): GrpcCallSeries {
    const key = `${service}/${method}`;
    let series = this.calls.get(key);
    if (!series) {
      series = new GrpcCallSeries(this, service, method);
      this.calls.set(key, series);
    }
    return series;
  }

  private flushCalls(): void {
    for (const series of this.calls.values()) series.flush();
  }
}

/** Calls a recorder holds before handing them to prom-client, when nothing reads the metrics meanwhile. */
const PENDING_CALLS = 1024;

/**
 * One gRPC method's finished calls, counted in plain numbers and handed to
 * `grpc_server_handled_total` and `grpc_server_handling_seconds` in batches: whenever the metrics
 * are read, and every PENDING_CALLS calls. (prom-client hashes a series' labels on every update,
 * which cost a call more than the kit's guard.)
 */
export class GrpcCallSeries {
  private readonly codes = new Map<string, number>();
  private readonly seconds: number[] = [];

  constructor(
    private readonly metrics: Metrics,
    private readonly service: string,
    private readonly method: string,
  ) {}

  /** Records one call answered with `code` (`OK`, `NOT_FOUND`, ...), started at `startedAt` (`performance.now()`). */
  observe(code: string, startedAt: number): void {
    this.seconds.push((performance.now() - startedAt) / 1000);
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (this.seconds.length >= PENDING_CALLS) this.flush();
  }

  /** Hands the calls recorded since the last flush to prom-client. */
  flush(): void {
    const labels = { grpc_service: this.service, grpc_method: this.method };
    for (const [code, count] of this.codes) this.metrics.grpcHandled.inc({ ...labels, grpc_code: code }, count);
    for (const seconds of this.seconds) this.metrics.grpcSeconds.observe(labels, seconds);
    this.codes.clear();
    this.seconds.length = 0;
  }
}
