import type { DescService } from '@bufbuild/protobuf';
import { ConfigError, listenError, type EdgeDefinition, type TrellisConfig, type GrpcCallOptions, type Logger, type Metrics, type RevocationList } from '@trellis/platform';
import { EdgeAuth } from './auth/edge-auth';
import { dataHttpRoutes } from './data-http/blob.routes';
import { versionPushRoutes } from './data-http/version-push.routes';
import { toGatewayError } from './errors/gateway-error';
import { HttpServer, renderJsonError } from './http/http-server';
import { InferenceProxy, INFERENCE_UPSTREAM_SETTING, type InferenceUpstream } from './inference/inference-proxy';
import { inferenceRoutes } from './inference/inference.routes';
import { probeRoutes } from './http/probe.routes';
import type { RequestContext } from './http/request-context';
import { Router } from './http/router';
import { mlflowRoutes } from './mlflow/mlflow.routes';
import { openApiRoutes } from './openapi/openapi.routes';
import type { RequestClients, RouteHost, RouteModule } from './route-host';
import { rpcRoutes } from './rpc/rpc.routes';
import { WebAssets, webAssetsRoot } from './ui/web-assets';
import { webRoutes } from './ui/web.routes';
import { EXPOSED_SERVICES } from './upstreams/exposed-services';
import { Upstreams } from './upstreams/upstreams';

/** Every family of routes the gateway serves, in registration order. */
const ROUTE_MODULES: readonly RouteModule[] = [rpcRoutes, openApiRoutes, mlflowRoutes, dataHttpRoutes, versionPushRoutes, inferenceRoutes];

/** The upstream that is not a gRPC server: serving's OIP REST API (`services.serving.httpPort`), where `/v2` goes. */
const INFERENCE = 'inference';

/** `services.serving.httpPort`'s default, where serving's REST API listens unless told otherwise. */
const DEFAULT_SERVING_HTTP_PORT = 8000;

/** What a gateway needs. */
export interface GatewayOptions {
  /** Platform service name -> `host:port` of its gRPC server. */
  upstreams: Readonly<Record<string, string>>;
  /** Where `/v2` goes: `host:port` of serving's OIP REST API, or why there is none (`/v2` answers 503 with it). */
  inference?: InferenceUpstream;
  /** Default body limit of routes that read their body. */
  maxBodyBytes: number;
  logger: Logger;
  /** Where request counts and durations go (`trellis_http_*` on the process's /metrics); none when absent. */
  metrics?: Metrics;
  /** The gRPC services served over HTTP, by platform service (default: EXPOSED_SERVICES). */
  services?: Readonly<Record<string, readonly DescService[]>>;
  /** The process's deny list: cached tokens it names are dropped (none when absent). */
  revocations?: RevocationList;
  /** Directory of the built web UI served at `/` (none: `/` says how to build it). */
  webRoot?: string;
}

/**
 * The HTTP edge of the platform: stateless, a client of the services' gRPC servers. It owns the
 * router its route modules add to, the upstream clients, and the caller's credentials.
 */
export class Gateway implements RouteHost {
  readonly router = new Router();
  readonly upstreams: Upstreams;
  readonly inference: InferenceProxy;
  readonly logger: Logger;
  private readonly auth: EdgeAuth;
  private readonly server: HttpServer;

  constructor(options: GatewayOptions) {
    this.logger = options.logger;
    this.upstreams = new Upstreams(options.upstreams, options.services ?? EXPOSED_SERVICES, options.logger);
    this.inference = new InferenceProxy(options.inference ?? { unknown: `no address is configured for serving's inference REST API: set ${INFERENCE_UPSTREAM_SETTING} to host:port of serving's services.serving.httpPort` });
    this.auth = new EdgeAuth(this.upstreams, { revocations: options.revocations });
    this.server = new HttpServer(this.router, { maxBodyBytes: options.maxBodyBytes, logger: options.logger, metrics: options.metrics, edge: 'gateway' });
    for (const addRoutes of ROUTE_MODULES) addRoutes(this);
    webRoutes(this.router, options.webRoot === undefined ? undefined : new WebAssets(options.webRoot));
  }

  async clientsFor(ctx: RequestContext): Promise<RequestClients> {
    const options = await this.callOptions(ctx);
    return { of: (service) => this.upstreams.client(service), options };
  }

  async callOptions(ctx: RequestContext): Promise<GrpcCallOptions> {
    return { token: await this.auth.tokenOf(ctx), requestId: ctx.requestId, signal: ctx.signal };
  }

  accessGained(ctx: RequestContext): void {
    this.auth.accessGained(ctx);
  }

  errorBody(ctx: RequestContext, error: unknown): unknown {
    const failure = toGatewayError(error, ctx.requestId, (unexpected) =>
      this.logger.error({ err: unexpected, requestId: ctx.requestId }, 'unexpected error in a gateway stream'),
    );
    return renderJsonError(failure, ctx).body;
  }

  /** Listens on host:port (0 picks a free port) and returns the URL it serves. */
  listen(host: string, port: number): Promise<string> {
    return this.server.listen(host, port);
  }

  /** Stops accepting requests, lets those in flight finish, then closes the upstream channels. */
  async close(): Promise<void> {
    await this.server.close();
    this.upstreams.close();
    this.inference.close();
  }
}

/**
 * The gateway as an edge of a process: upstreams are the process's own services, overridden by
 * `gateway.upstreams`; it listens on `host`:`gateway.port`, where it also answers `/healthz` and
 * `/readyz`. The process is ready only while every upstream answers its health check. In
 * distributed mode it refuses to start without upstreams, or with one the gateway does not know.
 */
export const gatewayEdge: EdgeDefinition = {
  name: 'gateway',
  async start({ runtime, upstreams: own }) {
    const { config } = runtime;
    const { [INFERENCE]: inferenceAddress, ...upstreams } = { ...own, ...config.gateway.upstreams };
    checkUpstreams(upstreams, config.gateway.upstreams, config.mode);
    const inference = inferenceAddress !== undefined ? { address: inferenceAddress } : inProcessInference(config, own);
    const logger = runtime.logger.child({ edge: 'gateway' });
    const gateway = new Gateway({ upstreams, inference, maxBodyBytes: config.gateway.maxBodyBytes, logger, metrics: runtime.metrics, revocations: runtime.revocations, webRoot: webAssetsRoot(config.gateway.webRoot) });
    probeRoutes(gateway.router, runtime.ops);
    const removeChecks = Object.keys(upstreams).map((owner) =>
      runtime.ops.addReadinessCheck({ name: `gateway.upstream.${owner}`, check: () => gateway.upstreams.checkHealth(owner) }),
    );
    if ('address' in inference) removeChecks.push(runtime.ops.addReadinessCheck({ name: `gateway.upstream.${INFERENCE}`, check: () => gateway.inference.checkHealth() }));
    let address: string;
    try {
      address = await gateway.listen(config.host, config.gateway.port);
    } catch (error) {
      for (const remove of removeChecks) remove();
      await gateway.close();
      throw listenError(error, 'the gateway', `${config.host}:${config.gateway.port}`, 'gateway.port (TRELLIS_GATEWAY_PORT)');
    }
    logger.info({ address, upstreams, inference }, 'gateway listening');
    return {
      address,
      summary: { 'web UI': `${address}/  (sign in with an API key; \`trellis login --url ${address}\` for the CLI)` },
      async close() {
        for (const remove of removeChecks) remove();
        await gateway.close();
        logger.info('gateway stopped');
      },
    };
  },
};

/** Refuses upstreams the gateway cannot use, naming the settings, before anything listens. */
function checkUpstreams(upstreams: Record<string, string>, configured: Record<string, string>, mode: string): void {
  const known = [...Object.keys(EXPOSED_SERVICES), INFERENCE];
  const unknown = Object.keys(configured).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const settings = unknown.map((name) => `gateway.upstreams.${name} (TRELLIS_GATEWAY_UPSTREAM_${name.toUpperCase()})`);
    throw new ConfigError(`${settings.join(', ')}: the gateway serves no service of that name; it serves ${known.join(', ')}`);
  }
  if (mode === 'distributed' && Object.keys(upstreams).length === 0) {
    const variables = Object.keys(EXPOSED_SERVICES).map((name) => `TRELLIS_GATEWAY_UPSTREAM_${name.toUpperCase()}`);
    throw new ConfigError(
      `the gateway has no upstreams: set gateway.upstreams.<service> to host:port of each service's gRPC server (${variables.join(', ')}); governance's is needed for API keys`,
    );
  }
}

/**
 * Serving's REST API in this process (standalone): on the process's host at
 * `services.serving.httpPort`. A port picked at start (0) is not known here, so it must be named.
 */
function inProcessInference(config: TrellisConfig, own: Readonly<Record<string, string>>): InferenceUpstream {
  if (own.serving === undefined) return { unknown: `no address is configured for serving's inference REST API: set ${INFERENCE_UPSTREAM_SETTING} to host:port of serving's services.serving.httpPort` };
  const port = Number(config.services.serving?.httpPort ?? DEFAULT_SERVING_HTTP_PORT);
  if (port === 0) {
    return { unknown: `serving's inference REST API listens on a port picked at start (services.serving.httpPort 0), which the gateway cannot learn: set services.serving.httpPort (TRELLIS_SERVING_HTTP_PORT) to a port, or ${INFERENCE_UPSTREAM_SETTING}` };
  }
  // A wildcard address listens on loopback too.
  const host = { '0.0.0.0': '127.0.0.1', '::': '::1' }[config.host] ?? config.host;
  return { address: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}
