import { GatewayRequestError, type GatewayErrorBody } from './gateway-error';

/** A gRPC method as the gateway names it: `trellis.tracking.v1.RunService/SearchRuns`. */
export type RpcMethod = `${string}.${string}/${string}`;

/** Where a credential comes from: a fixed API key or token, or a session that renews its token. */
export type CredentialSource = string | { credential(): Promise<string> } | undefined;

export interface GatewayClientOptions {
  /** The gateway's base URL (`http://127.0.0.1:8080`); a relative one (``) in a page it serves. */
  url: string;
  /** Sent as `Authorization: Bearer <credential>`: an API key, a token, or a session. */
  credential?: CredentialSource;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** What a call may pass besides its body. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * A client of the gateway's HTTP API: every RPC as JSON (`POST /v1/<package.Service>/<Method>`),
 * server-streaming RPCs as NDJSON, and the gateway's other routes (MLflow REST, dataset pushes)
 * raw. A refused request throws GatewayRequestError with the gateway's status and reason. It uses
 * only fetch, so the same client serves the web UI, the CLI and tests.
 */
export class GatewayClient {
  readonly url: string;
  private readonly credentialSource: CredentialSource;
  private readonly fetcher: typeof fetch;

  constructor(options: GatewayClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.credentialSource = options.credential;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The same gateway with another credential. */
  withCredential(credential: CredentialSource): GatewayClient {
    return new GatewayClient({ url: this.url, credential, fetch: this.fetcher });
  }

  /** Calls a unary RPC with its request as proto3 JSON and returns the response's JSON. */
  async call<Response = unknown>(method: RpcMethod, body: object = {}, options: CallOptions = {}): Promise<Response> {
    const response = await this.request(`/v1/${method}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: options.signal });
    return (await response.json()) as Response;
  }

  /**
   * Calls a server-streaming RPC and yields each response message as it arrives. An error the
   * gateway meets mid-stream (its last line) is thrown as GatewayRequestError.
   */
  async *stream<Message = unknown>(method: RpcMethod, body: object = {}, options: CallOptions = {}): AsyncGenerator<Message> {
    const response = await this.request(`/v1/${method}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: options.signal });
    for await (const line of ndjsonLines(response)) {
      const value = JSON.parse(line) as { error?: GatewayErrorBody };
      if (value.error !== undefined && Object.keys(value).length === 1) throw GatewayRequestError.fromBody(200, value.error);
      yield value as Message;
    }
  }

  /** GETs or sends any gateway route and returns its JSON answer. */
  async json<Response = unknown>(path: string, init: RequestInit = {}): Promise<Response> {
    return (await (await this.request(path, init)).json()) as Response;
  }

  /**
   * Sends a request to a gateway route with the caller's credential and returns the response,
   * which is 2xx: anything else throws GatewayRequestError.
   */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const credential = typeof this.credentialSource === 'string' ? this.credentialSource : await this.credentialSource?.credential();
    if (credential && !headers.has('authorization')) headers.set('authorization', `Bearer ${credential}`);
    const target = `${this.url}${path}`;
    let response: Response;
    try {
      response = await this.fetcher(target, { ...init, headers, ...(isStreamBody(init.body) ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw GatewayRequestError.unreachable(this.url || 'this page', error);
    }
    if (response.ok) return response;
    const text = await response.text();
    let body: GatewayErrorBody | undefined;
    try {
      body = JSON.parse(text) as GatewayErrorBody;
    } catch {
      body = undefined;
    }
    throw body && typeof body.message === 'string' && typeof body.status === 'string' ? GatewayRequestError.fromBody(response.status, body) : GatewayRequestError.fromText(response.status, text);
  }
}

function isStreamBody(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

/** The lines of an NDJSON response as they arrive; blank lines are skipped. */
export async function* ndjsonLines(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() !== '') yield line;
        newline = pending.indexOf('\n');
      }
    }
    if (pending.trim() !== '') yield pending;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
