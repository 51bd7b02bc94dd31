import { status } from '@grpc/grpc-js';
import type { RouteHost } from '../route-host';
import type { RequestContext } from '../http/request-context';
import type { RouteHandler } from '../http/router';
import { artifactRoutes, runArtifactFileRoute } from './artifacts.routes';
import { experimentRoutes } from './experiments.routes';
import { metricRoutes } from './metrics.routes';
import { MlflowCall, type MlflowRoute, type MlflowShared } from './mlflow-call';
import { endpointNotFound, MlflowError, renderMlflowError } from './mlflow-errors';
import { ProjectResolver } from './project-resolver';
import { registryArtifactRoutes, versionArtifactFileRoute } from './registry-artifacts.routes';
import { registeredModelRoutes } from './registry-models.routes';
import { modelVersionRoutes } from './registry-versions.routes';
import { runRoutes } from './runs.routes';

/** What `GET /version` answers: the Trellis release, not an MLflow one. */
const TRELLIS_VERSION = '0.1.0';

/** Where MLflow clients send their calls: the REST API, and the same handlers under the UI's prefix. */
const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'];
/** `MLFLOW_TRACKING_URI=http://host:8080/projects/<name>` selects a project: the client appends its paths to the URI's. */
const BASES = ['', '/projects/:project'];
/** Path families whose unknown paths answer MLflow's ENDPOINT_NOT_FOUND. */
const FAMILIES = ['/mlflow', '/mlflow-artifacts'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** What MLflow's server answers the UI's AI-gateway proxy when no deployments target is configured: an empty gateway. */
const NO_AI_GATEWAY = { endpoints: [] };

const MLFLOW_ROUTES: readonly MlflowRoute[] = [
  { method: 'GET', path: '/mlflow/gateway-proxy', handle: async () => NO_AI_GATEWAY },
  { method: 'POST', path: '/mlflow/gateway-proxy', handle: async () => NO_AI_GATEWAY },
  ...experimentRoutes,
  ...runRoutes,
  ...metricRoutes,
  ...artifactRoutes,
  ...registeredModelRoutes,
  ...modelVersionRoutes,
  ...registryArtifactRoutes,
];

/** Routes of MLflow's server outside its API prefixes, with which its UI shows files. */
const FILE_ROUTES: readonly MlflowRoute[] = [runArtifactFileRoute, versionArtifactFileRoute];

/** MLflow's message for a server without proxied multipart uploads; the client then uploads in one PUT. */
const NO_MULTIPART = 'Multipart upload is not supported for the current artifact repository';

/**
 * MLflow's tracking and model registry REST API (`/api/2.0/mlflow/...`) and proxied artifact
 * store (`/api/2.0/mlflow-artifacts/...`) over the tracking and registry services' gRPC APIs, so
 * the stock MLflow client works with `MLFLOW_TRACKING_URI` pointed at the gateway
 * (docs/mlflow.md). Every route is also
 * served under `/ajax-api/2.0` and under `/projects/<name>`, which selects the project.
 */
export function mlflowRoutes(gateway: RouteHost): void {
  const shared: MlflowShared = { projects: new ProjectResolver(), defaultExperiments: new Map() };
  const { router } = gateway;
  const options = { renderError: renderMlflowError };

  const handlerOf =
    (route: MlflowRoute): RouteHandler =>
    async (ctx) => {
      const call = new MlflowCall(ctx, await gateway.clientsFor(ctx), shared);
      const answer = await route.handle(call);
      if (!route.streams) ctx.sendJson(200, answer);
    };
  const notFound: RouteHandler = (ctx) => {
    const method = ctx.req.method ?? 'GET';
    const allowed = METHODS.filter((other) => {
      const match = router.match(other, ctx.path);
      return other !== method && match.kind === 'found' && match.route.handler !== notFound;
    });
    if (allowed.length === 0) throw endpointNotFound(method, ctx.path);
    ctx.res.setHeader('allow', allowed.join(', '));
    throw new MlflowError(status.UNIMPLEMENTED, 'BAD_REQUEST', `${method} is not allowed on ${ctx.path}; it answers ${allowed.join(', ')}`, 405);
  };
  const multipartUnsupported: RouteHandler = () => {
    throw new MlflowError(status.UNIMPLEMENTED, 'NOT_IMPLEMENTED', NO_MULTIPART, 501);
  };
  const text = (body: string) => (ctx: RequestContext) => {
    ctx.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  };

  for (const base of BASES) {
    for (const prefix of API_PREFIXES) {
      for (const route of MLFLOW_ROUTES) {
        router.add(route.method, `${base}${prefix}${route.path}`, handlerOf(route), { ...options, maxBodyBytes: route.maxBodyBytes });
      }
      router.add('POST', `${base}${prefix}/mlflow-artifacts/mpu/*`, multipartUnsupported, options);
      for (const family of FAMILIES) for (const method of METHODS) router.add(method, `${base}${prefix}${family}/*`, notFound, options);
    }
    for (const route of FILE_ROUTES) router.add(route.method, `${base}${route.path}`, handlerOf(route), options);
    // The UI's GraphQL endpoint is not served: it answers as an unknown MLflow endpoint.
    for (const method of ['GET', 'POST']) router.add(method, `${base}/graphql`, notFound, options);
    // Recent clients ask whether proxied multipart transfers are on before large ones.
    router.add('GET', `${base}/api/3.0/mlflow/server-info`, (ctx) => ctx.sendJson(200, { multipart_uploads_enabled: false, multipart_downloads_enabled: false }));
    router.add('GET', `${base}/health`, text('OK'));
    router.add('GET', `${base}/version`, text(TRELLIS_VERSION));
  }
}
