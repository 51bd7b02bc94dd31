import { createRegistry, fromJson, toJson, type DescMessage, type DescMethod, type DescService, type JsonValue, type Message, type Registry } from '@bufbuild/protobuf';
import type { GrpcCallOptions } from '@trellis/platform';
import { IdentityServiceDesc } from '@trellis/proto';
import { badRequest } from '../errors/gateway-error';
import { ROUTED_BY_SERVICE_FIELD } from '../upstreams/exposed-services';
import type { RouteHost } from '../route-host';
import { parseJson } from '../http/json-body';
import { ndjsonLines, sendNdjson } from '../http/ndjson';
import type { RequestContext } from '../http/request-context';
import type { RouteHandler } from '../http/router';

/** The HTTP path of an RPC: `/v1/trellis.governance.v1.IdentityService/CreateProject`. */
export function rpcPath(service: DescService, method: DescMethod): string {
  return `/v1/${service.typeName}/${method.name}`;
}

/**
 * `POST /v1/<package.Service>/<Method>` for every method of every exposed service. Bodies and
 * answers use the protobuf JSON mapping: unknown fields are a 400 naming them; answers carry every
 * field, defaults included (`"projects": []`, `"intact": false`), so a client sees one shape.
 * Server-streaming methods answer NDJSON, one message per line; client-streaming and bidi methods
 * take an NDJSON body, one request message per line, streamed into the call as it arrives.
 * A service every platform service answers for itself (ROUTED_BY_SERVICE_FIELD) goes to the one its
 * request's `service` field names.
 */
export function rpcRoutes(gateway: RouteHost): void {
  const services = Object.values(gateway.upstreams.exposed).flat();
  const registry = createRegistry(...[...services, ...ROUTED_BY_SERVICE_FIELD].map((service) => service.file));
  for (const service of services) {
    for (const method of service.methods) gateway.router.add('POST', rpcPath(service, method), rpcHandler(gateway, service, method, registry));
  }
  for (const service of ROUTED_BY_SERVICE_FIELD) {
    for (const method of service.methods) gateway.router.add('POST', rpcPath(service, method), rpcHandler(gateway, service, method, registry, true));
  }
}

type Call = (request: unknown, options: GrpcCallOptions) => unknown;

/**
 * Methods that give their caller access its token does not carry: CreateProject makes the caller
 * the new project's owner (an org admin's token names every project of its org as it was).
 */
const GAINS_ACCESS: ReadonlySet<DescMethod> = new Set([IdentityServiceDesc.method.createProject]);

function rpcHandler(gateway: RouteHost, service: DescService, method: DescMethod, registry: Registry, routedByServiceField = false): RouteHandler {
  const answer = (message: Message) => toJson(method.output, message, { registry, alwaysEmitImplicit: true });
  const start = async (ctx: RequestContext, request?: Message) => {
    const client = routedByServiceField ? gateway.upstreams.clientOf(ownerNamed(gateway, request), service) : gateway.upstreams.client(service);
    const call = client[method.localName] as unknown as Call;
    return { call, options: await gateway.callOptions(ctx) };
  };
  const errorBody = (ctx: RequestContext) => (error: unknown) => gateway.errorBody(ctx, error);

  switch (method.methodKind) {
    case 'unary':
      return async (ctx) => {
        const request = messageOf(method.input, await ctx.json(), registry);
        const { call, options } = await start(ctx, request);
        const response = (await call(request, options)) as Message;
        if (GAINS_ACCESS.has(method)) gateway.accessGained(ctx);
        ctx.sendJson(200, answer(response));
      };
    case 'server_streaming':
      return async (ctx) => {
        const request = messageOf(method.input, await ctx.json(), registry);
        const { call, options } = await start(ctx);
        await sendNdjson(ctx, call(request, options) as AsyncIterable<Message>, answer, errorBody(ctx));
      };
    case 'client_streaming':
      return async (ctx) => {
        const { call, options } = await start(ctx);
        const requests = new NdjsonRequests(ctx, method.input, registry);
        let response: Message;
        try {
          response = (await call(requests.messages(), options)) as Message;
        } catch (error) {
          throw requests.error ?? error;
        }
        ctx.sendJson(200, answer(response));
      };
    case 'bidi_streaming':
      return async (ctx) => {
        const { call, options } = await start(ctx);
        const requests = new NdjsonRequests(ctx, method.input, registry);
        await sendNdjson(ctx, requests.failingFirst(call(requests.messages(), options) as AsyncIterable<Message>), answer, errorBody(ctx));
      };
  }
}

/** The platform service a field-routed request names in `service`; 400 naming the services there are for another. */
function ownerNamed(gateway: RouteHost, request: Message | undefined): string {
  const owner = (request as { service?: unknown } | undefined)?.service;
  const known = Object.keys(gateway.upstreams.exposed);
  if (typeof owner !== 'string' || !known.includes(owner)) {
    throw badRequest(`service must name the platform service that owns the resource, one of ${known.join(', ')}; got ${JSON.stringify(String(owner ?? '').slice(0, 100))}`);
  }
  return owner;
}

/** A message from its JSON, or a 400 saying what does not fit (an unknown field, a wrong type). */
function messageOf(schema: DescMessage, json: unknown, registry: Registry): Message {
  try {
    return fromJson(schema, (json ?? {}) as JsonValue, { registry });
  } catch (error) {
    throw badRequest((error as Error).message);
  }
}

/**
 * The request messages of a streaming call, read line by line from the NDJSON body. The client
 * library cancels the call when the body turns out bad and reports CANCELLED; `error` keeps the
 * reason, which is what the client is told.
 */
class NdjsonRequests {
  error?: unknown;

  constructor(
    private readonly ctx: RequestContext,
    private readonly schema: DescMessage,
    private readonly registry: Registry,
  ) {}

  async *messages(): AsyncGenerator<Message> {
    try {
      for await (const line of ndjsonLines(this.ctx)) yield this.messageOf(line);
    } catch (error) {
      this.error ??= error;
      // The rest of the body is not read: the connection closes after the answer.
      if (!this.ctx.res.headersSent) this.ctx.res.setHeader('connection', 'close');
      throw error;
    }
  }

  private messageOf(line: { text: string; number: number }): Message {
    const json = parseJson(line.text, `line ${line.number} of the request body`);
    try {
      return messageOf(this.schema, json, this.registry);
    } catch (error) {
      throw badRequest(`line ${line.number} of the request body: ${(error as Error).message}`);
    }
  }

  /** The responses of the call, failing with the request body's error rather than the cancellation it caused. */
  async *failingFirst(responses: AsyncIterable<Message>): AsyncGenerator<Message> {
    try {
      yield* responses;
    } catch (error) {
      throw this.error ?? error;
    }
  }
}
