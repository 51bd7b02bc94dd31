import type { GatewayError } from '../errors/gateway-error';
import { grpcToHttp } from '../errors/status-mapping';
import type { RequestContext } from '../http/request-context';
import type { RouteHost } from '../route-host';
import { MAX_INFER_BODY_BYTES } from './inference-proxy';

/** The gateway's own errors on `/v2` (credentials refused, serving down, a body too large) in the protocol's shape, `{"error": "..."}`, as serving answers its own. */
const renderOipError = (error: GatewayError) => ({ status: error.httpStatus ?? grpcToHttp(error.code).httpStatus, body: { error: error.message } });

/**
 * The Open Inference Protocol's REST API under `/v2` (health, server and model metadata, model
 * readiness, infer), forwarded to serving's own REST API with the caller's platform token.
 */
export function inferenceRoutes(host: RouteHost): void {
  const forward = async (ctx: RequestContext) => host.inference.forward(ctx, (await host.callOptions(ctx)).token);
  const options = { renderError: renderOipError, maxBodyBytes: MAX_INFER_BODY_BYTES };
  host.router.add('GET', '/v2', forward, options);
  for (const method of ['GET', 'POST']) host.router.add(method, '/v2/*', forward, options);
}
