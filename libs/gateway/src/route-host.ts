import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { GrpcCallOptions, GrpcClient, Logger } from '@trellis/platform';
import type { RequestContext } from './http/request-context';
import type { Router } from './http/router';
import type { InferenceProxy } from './inference/inference-proxy';
import type { Upstreams } from './upstreams/upstreams';

/** The upstream clients of one request, and the call options that carry its caller. */
export interface RequestClients {
  /** The typed client of `service` (shared; 503 UNAVAILABLE naming the service when it has no upstream). */
  of<T extends GenServiceMethods>(service: GenService<T>): GrpcClient<T>;
  /** The caller's token, the request id and the request's abort signal; pass them to every call. */
  options: GrpcCallOptions;
}

/** What a family of routes may use of the gateway that serves it (the Gateway is one). */
export interface RouteHost {
  readonly router: Router;
  readonly upstreams: Upstreams;
  /** Forwards `/v2` to serving's OIP REST API. */
  readonly inference: InferenceProxy;
  readonly logger: Logger;
  /**
   * The clients a route calls upstream with on behalf of this request's caller:
   * `const rpc = await host.clientsFor(ctx); await rpc.of(RunServiceDesc).getRun({ runId }, rpc.options)`.
   * Rejects with 401 when the credentials are malformed or the API key is refused.
   */
  clientsFor(ctx: RequestContext): Promise<RequestClients>;
  /** The call options of this request's caller (see RequestClients.options). */
  callOptions(ctx: RequestContext): Promise<GrpcCallOptions>;
  /**
   * Says that this request, now answered upstream, gave its caller access the token it was sent
   * with does not carry (CreateProject makes the caller the project's owner): the caller's next
   * request with the same API key carries a token that has it.
   */
  accessGained(ctx: RequestContext): void;
  /** The gateway's error body for `error`, for errors that arrive once a response has started. */
  errorBody(ctx: RequestContext, error: unknown): unknown;
}

/** Adds a family of routes to a gateway (`host.router.add(...)`). */
export type RouteModule = (host: RouteHost) => void;
