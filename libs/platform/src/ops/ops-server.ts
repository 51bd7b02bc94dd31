import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** What an extra ops route answers. */
export interface OpsResponse {
  status: number;
  type: string;
  body: string;
}

/** What a passing readiness check found worth reporting. */
export interface ReadinessReport {
  /**
   * Set when the dependency works only in part and calls still succeed (NATS out of reach: events
   * wait in the outbox): `/readyz` stays 200 and says "degraded", with this reason.
   */
  degraded?: string;
  /** Figures an operator reads in the answer, next to the check's name (say, `pending` events). */
  figures?: Record<string, number>;
}

/**
 * A readiness check: resolves when the dependency is usable (with what it found worth reporting),
 * rejects with the reason when not.
 */
export type ReadinessCheck = { name: string; check: () => Promise<void | ReadinessReport> };

/**
 * The operations endpoints of a process, on their own HTTP port and without auth:
 * `/healthz` (the process is alive), `/readyz` and `/metrics` (Prometheus text format).
 * `/readyz` answers a JSON body with a `status` and an entry per check: 200 `ready` when every
 * check passes, 200 `degraded` when they pass but some report a reason to be degraded, 503
 * `not ready` naming the failing ones, and 503 `draining` while shutting down.
 */
export class OpsServer {
  private readonly server: Server;
  private readonly checks: ReadinessCheck[] = [];
  private readonly routes = new Map<string, () => Promise<OpsResponse>>();
  private draining = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.server = createServer((request, response) => {
      this.route(request.url ?? '/')
        .then(({ status, type, body }) => response.writeHead(status, { 'content-type': type }).end(body))
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'ops endpoint failed');
          response.writeHead(500).end();
        });
    });
  }

  /** Adds a dependency that must be usable for `/readyz` to answer 200; returns its removal. */
  addReadinessCheck(check: ReadinessCheck): () => void {
    this.checks.push(check);
    return () => {
      const index = this.checks.indexOf(check);
      if (index >= 0) this.checks.splice(index, 1);
    };
  }

  /**
   * Serves an extra unauthenticated GET route, for public documents such as governance's
   * `/.well-known/jwks.json`. Never for anything that needs a caller's identity.
   */
  addRoute(path: string, answer: () => Promise<OpsResponse>): void {
    this.routes.set(path, answer);
  }

  /** From now on `/readyz` answers 503, so load balancers stop sending traffic before shutdown. */
  drain(): void {
    this.draining = true;
  }

  /**
   * The answer of `/healthz` or `/readyz`, for an edge that serves them on its own port too (the
   * gateway), so a load balancer in front of it needs no second port.
   */
  probe(path: '/healthz' | '/readyz'): Promise<OpsResponse> {
    return path === '/healthz' ? Promise.resolve(json(200, { status: 'ok' })) : this.readiness();
  }

  /** Listens on host:port (port 0 picks a free one) and returns the bound address. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(url: string): Promise<OpsResponse> {
    const path = url.split('?')[0];
    const extra = this.routes.get(path);
    if (extra) return extra();
    if (path === '/healthz' || path === '/readyz') return this.probe(path);
    if (path === '/metrics') {
      return { status: 200, type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
    }
    return json(404, { error: `no such endpoint ${path}; try /healthz, /readyz or /metrics` });
  }

  private async readiness(): Promise<OpsResponse> {
    if (this.draining) return json(503, { status: 'draining' });
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        try {
          const { degraded, figures } = (await check()) ?? {};
          return { name, ok: true, ...figures, ...(degraded ? { degraded } : {}) };
        } catch (error) {
          return { name, ok: false, reason: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    if (results.some((result) => !result.ok)) return json(503, { status: 'not ready', checks: results });
    return json(200, { status: results.some((result) => 'degraded' in result) ? 'degraded' : 'ready', checks: results });
  }
}

function json(status: number, body: unknown): OpsResponse {
  return { status, type: 'application/json', body: JSON.stringify(body) };
}
