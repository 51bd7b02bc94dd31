import { status } from '@grpc/grpc-js';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../http/request-context';

/** The gateway setting that names where serving's OIP REST API is. */
export const INFERENCE_UPSTREAM_SETTING = 'gateway.upstreams.inference (TRELLIS_GATEWAY_UPSTREAM_INFERENCE)';

/** Largest infer body the gateway forwards: ModelInfer's largest request, as serving's REST API takes it. */
export const MAX_INFER_BODY_BYTES = 64 * 1024 * 1024;

/** How long a readiness check waits for `/v2/health/live`. */
const HEALTH_TIMEOUT_MS = 2000;

/** Headers that describe one connection, not the request or response (RFC 9110 7.6.1), and the caller's credentials, which are replaced. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization', 'x-request-id']);

/** Connection errors that mean nothing answers at the address (503), as opposed to an answer cut short (502). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** Where serving's REST API answers, as `host:port`, or why the gateway does not know. */
export type InferenceUpstream = { address: string } | { unknown: string };

/**
 * Forwards the Open Inference Protocol's REST API (`/v2/...`) to serving's own HTTP server
 * (`services.serving.httpPort`), streaming both bodies: the request's is counted against its limit
 * as it passes, never held. The caller's credentials go upstream as the platform token the gateway
 * holds for them (an API key exchanged, as on every route); serving checks them. The answer, its
 * status and headers (`trellis-revision`: the revision that answered) come back as serving sent them.
 */
export class InferenceProxy {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly upstream: InferenceUpstream) {}

  /** Sends `ctx`'s request upstream with `token` and pipes the answer back; a body over `ctx.maxBodyBytes` is 413. */
  async forward(ctx: RequestContext, token: string | undefined): Promise<void> {
    const address = this.address();
    const declared = Number(ctx.req.headers['content-length']);
    if (declared > ctx.maxBodyBytes) throw ctx.tooLarge();
    const headers = forwardedHeaders(ctx.req.headers);
    headers['x-request-id'] = ctx.requestId;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const outgoing = request({ ...hostAndPort(address), method: ctx.req.method, path: ctx.req.url, headers, agent: this.agent, signal: ctx.signal });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      outgoing.once('response', resolve);
      // Later errors (the answer has come) settle nothing; the response's own pipe reports them.
      outgoing.on('error', reject);
    });
    let tooLarge: GatewayError | undefined;
    let size = 0;
    const limit = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        size += chunk.length;
        done(size <= ctx.maxBodyBytes ? null : (tooLarge = ctx.tooLarge()), chunk);
      },
    });
    // Not pipeline(): a failed upstream must not destroy the client's socket before it is answered.
    limit.once('error', (error) => {
      ctx.req.unpipe(limit);
      outgoing.destroy(error);
    });
    ctx.req.pipe(limit).pipe(outgoing);
    let response: IncomingMessage;
    try {
      response = await answered;
    } catch (error) {
      throw tooLarge ?? this.failure(error, address);
    }
    ctx.res.writeHead(response.statusCode ?? 502, forwardedHeaders(response.headers));
    await pipeline(response, ctx.res);
  }

  /** Resolves when serving's REST API answers `/v2/health/live` with 200; rejects naming it and its setting otherwise. */
  checkHealth(): Promise<void> {
    let address: string;
    try {
      address = this.address();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise((resolve, reject) => {
      const probe = request({ ...hostAndPort(address), path: '/v2/health/live', agent: this.agent, timeout: HEALTH_TIMEOUT_MS }, (response) => {
        response.resume();
        if (response.statusCode === 200) resolve();
        else reject(new Error(`${describe(address)} answered /v2/health/live with ${response.statusCode}`));
      });
      probe.once('timeout', () => {
        reject(new Error(`${describe(address)} did not answer /v2/health/live within ${HEALTH_TIMEOUT_MS} ms`));
        probe.destroy();
      });
      probe.on('error', (error) => reject(this.failure(error, address)));
      probe.end();
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private address(): string {
    if ('address' in this.upstream) return this.upstream.address;
    throw new GatewayError(status.UNAVAILABLE, this.upstream.unknown);
  }

  /** 503 when nothing answers at the address, 502 when serving's answer broke off before its status. */
  private failure(error: unknown, address: string): GatewayError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (UNREACHABLE.has(code)) return new GatewayError(status.UNAVAILABLE, `${describe(address)} is not answering (${code}); check that it runs there`);
    return new GatewayError(status.UNAVAILABLE, `${describe(address)} broke off its answer: ${(error as Error).message}`, 502);
  }
}

function describe(address: string): string {
  return `serving's inference REST API at ${address} (${INFERENCE_UPSTREAM_SETTING})`;
}

function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const forwarded: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) forwarded[name] = value;
  return forwarded;
}

function hostAndPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}
