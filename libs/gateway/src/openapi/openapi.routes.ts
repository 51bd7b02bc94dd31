import type { RouteHost } from '../route-host';
import { ROUTED_BY_SERVICE_FIELD } from '../upstreams/exposed-services';
import { buildOpenApi } from './openapi';

/** `GET /openapi.json`: the OpenAPI 3.1 document of the RPC routes, built once at start. */
export function openApiRoutes(gateway: RouteHost): void {
  const document = Buffer.from(JSON.stringify(buildOpenApi(gateway.upstreams.exposed, ROUTED_BY_SERVICE_FIELD)));
  gateway.router.add('GET', '/openapi.json', (ctx) => {
    ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': document.length }).end(document);
  });
}
