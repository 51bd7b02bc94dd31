import { status } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainable, type Drain, type Logger, type Metrics } from '@trellis/platform';
import { badRequest, GatewayError, toGatewayError } from '../errors/gateway-error';
import { grpcToHttp } from '../errors/status-mapping';
import { RequestContext, type ErrorRenderer } from './request-context';
import type { Route, Router } from './router';

/** The ErrorInfo domain of failures the gateway answers itself, or that came from upstream without details. */
export const GATEWAY_ERROR_DOMAIN = 'gateway.trellis';

/**
 * The gateway's error body, with the HTTP status the gRPC code maps to (see grpcToHttp):
 * `{"code": 5, "status": "NOT_FOUND", "message": "...", "request_id": "...", "reason": "RUN_NOT_FOUND",
 * "domain": "tracking.trellis", "metadata": {"resource": "runs/r1"}, "field_violations": [],
 * "retry_delay_seconds": 3}`: the google.rpc.Status details of the service that failed the call
 * (ErrorInfo, BadRequest, RetryInfo), flattened. Every field but `retry_delay_seconds` (there when
 * a retry delay is known) is always present; `reason` is the code's name and `domain`
 * gateway.trellis when no service sent details.
 */
export const renderJsonError: ErrorRenderer = (error, ctx) => {
  const { httpStatus, status: name } = grpcToHttp(error.code);
  const { details } = error;
  const retryDelay = details?.retryAfterSeconds ?? error.retryAfterSeconds;
  return {
    status: error.httpStatus ?? httpStatus,
    body: {
      code: error.code,
      status: name,
      message: error.message,
      request_id: ctx.requestId,
      reason: details?.reason || name,
      domain: details?.domain || GATEWAY_ERROR_DOMAIN,
      metadata: details?.metadata ?? {},
      field_violations: details?.violations ?? [],
      ...(retryDelay === undefined ? {} : { retry_delay_seconds: retryDelay }),
    },
  };
};

/** What a 429 tells the client to wait when the limit that refused it did not say: the next second's budget. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * A node:http server that routes each request through a Router: it assigns the request id,
 * answers unknown paths (404) and methods (405), and turns whatever a handler throws into the
 * route's error body. Nothing is parsed that the handler does not ask for.
 */
export class HttpServer {
  private readonly server: Server;
  private readonly drain: Drain;

  constructor(
    private readonly router: Router,
    private readonly options: { maxBodyBytes: number; logger: Logger; metrics?: Metrics; edge?: string },
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.drain = drainable(this.server);
  }

  /** Listens on host:port (0 picks a free port) and returns the URL it serves. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const bound = (this.server.address() as AddressInfo).port;
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  /**
   * Stops without failing a request a client sent: answers from now on say `Connection: close`,
   * keep-alive connections close once idle, requests in flight finish (for at most ten seconds).
   */
  async close(): Promise<void> {
    await this.drain();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = process.hrtime.bigint();
    let routeLabel = 'unmatched';
    const { metrics, edge = 'gateway' } = this.options;
    if (metrics) res.once('close', () => metrics.observeHttp(edge, routeLabel, methodLabel(req.method), res.statusCode, startedAt));
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = queryAt < 0 ? '' : url.slice(queryAt + 1);
    const method = req.method ?? 'GET';
    let match: ReturnType<Router['match']>;
    try {
      match = this.router.match(method, path);
    } catch {
      this.fail(new RequestContext(req, res, requestId, path, {}, this.options.maxBodyBytes, query), badRequest(`the path ${path} is not validly percent-encoded`));
      return;
    }
    if (match.kind !== 'found') {
      const ctx = new RequestContext(req, res, requestId, path, {}, this.options.maxBodyBytes, query);
      if (match.kind === 'method-not-allowed') {
        res.setHeader('allow', match.allowed.join(', '));
        this.fail(ctx, new GatewayError(status.UNIMPLEMENTED, `${method} is not allowed on ${path}; it answers ${match.allowed.join(', ')}`, 405));
      } else {
        this.fail(ctx, new GatewayError(status.NOT_FOUND, `no route for ${method} ${path}; GET /openapi.json describes the API`));
      }
      return;
    }
    const { route, params } = match;
    routeLabel = route.pattern;
    const ctx = new RequestContext(req, res, requestId, path, params, route.maxBodyBytes ?? this.options.maxBodyBytes, query);
    try {
      const done = route.handler(ctx);
      if (done) done.catch((error: unknown) => this.fail(ctx, error, route));
    } catch (error) {
      this.fail(ctx, error, route);
    }
  }

  private fail(ctx: RequestContext, thrown: unknown, route?: Route): void {
    const error = toGatewayError(thrown, ctx.requestId, (unexpected) =>
      this.options.logger.error({ err: unexpected, requestId: ctx.requestId, route: route?.pattern }, 'unexpected error in gateway route'),
    );
    if (ctx.res.headersSent || ctx.res.destroyed) {
      // Too late for a status: cut the response so the client sees it incomplete, not complete and short.
      ctx.res.destroy();
      return;
    }
    this.options.logger.debug({ requestId: ctx.requestId, route: route?.pattern, code: error.code }, error.message);
    const { status: httpStatus, body } = (route?.renderError ?? renderJsonError)(error, ctx);
    if (httpStatus === 429) ctx.res.setHeader('retry-after', String(error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
    ctx.sendJson(httpStatus, body);
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request method as a metric label: any other method a client invents counts as OTHER, so series stay bounded. */
function methodLabel(method: string | undefined): string {
  return method && METHODS.has(method) ? method : 'OTHER';
}

/** The client's request id when it is a sane token, else a new one (as the kit's gRPC servers do). */
function requestIdOf(sent: string | string[] | undefined): string {
  return typeof sent === 'string' && /^[\w.:-]{1,128}$/.test(sent) ? sent : randomUUID();
}
