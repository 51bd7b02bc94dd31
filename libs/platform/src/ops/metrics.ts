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
  });

  /** How long gRPC calls took on the server. */
  readonly grpcSeconds = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from receiving a gRPC call to answering it, in seconds.',
    labelNames: ['grpc_service', 'grpc_method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
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

  // Series bound to their labels once, so recording a call does not hash label objects.
  private readonly handledSeries = new Map<string, { inc(): void }>();
  private readonly secondsSeries = new Map<string, { observe(value: number): void }>();

  /** Records one finished HTTP request of `edge`; `route` is the pattern that matched (`unmatched` when none did). */
  observeHttp(edge: string, route: string, method: string, status: number, startedAt: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.httpHandled.labels({ edge, route, method, status: String(status) }).inc();
    this.httpSeconds.labels({ edge, route, method }).observe(seconds);
  }

  /** Records one finished call. */
  observeCall(service: string, method: string, code: string, startedAt: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const call = `${service}/${method}`;
    let handled = this.handledSeries.get(`${call} ${code}`);
    if (!handled) {
      handled = this.grpcHandled.labels({ grpc_service: service, grpc_method: method, grpc_code: code });
      this.handledSeries.set(`${call} ${code}`, handled);
    }
    let timing = this.secondsSeries.get(call);
    if (!timing) {
      timing = this.grpcSeconds.labels({ grpc_service: service, grpc_method: method });
      this.secondsSeries.set(call, timing);
    }
    handled.inc();
    timing.observe(seconds);
  }
}
