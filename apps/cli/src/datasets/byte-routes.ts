import { GatewayRequestError, type GatewayErrorBody } from '@trellis/client';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/**
 * The gateway's byte routes (`/v1/data/...`: blob and part PUTs, file GETs with a Range) over
 * node's own HTTP client rather than fetch: bodies stream from disk with backpressure, their
 * length is declared (the routes refuse chunked bodies), and the caller counts the bytes as they
 * go, for its progress bar. A refusal throws GatewayRequestError, as GatewayClient's calls do.
 */
export class ByteRoutes {
  private readonly base: URL;
  private readonly agent: HttpAgent;

  constructor(
    url: string,
    private readonly apiKey: string,
  ) {
    this.base = new URL(url);
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** PUTs `length` bytes of `body` to `path` and returns the JSON answer. */
  async put<Answer>(path: string, body: Readable, length: number): Promise<Answer> {
    const response = await this.send('PUT', path, { 'content-length': length, 'content-type': 'application/octet-stream' }, body);
    return JSON.parse(await textOf(response)) as Answer;
  }

  /** GETs `path` (with a `Range` header when `from` is past 0) and returns the response to read: 200 or 206. */
  get(path: string, from = 0): Promise<IncomingMessage> {
    return this.send('GET', path, from > 0 ? { range: `bytes=${from}-` } : {});
  }

  /** Lets the process exit once the last transfer is done (keep-alive sockets would hold it). */
  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, headers: OutgoingHttpHeaders, body?: Readable): Promise<IncomingMessage> {
    const target = new URL(path, this.base);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(target, { method, agent: this.agent, headers: { ...headers, authorization: `Bearer ${this.apiKey}` } });
      request.once('error', (error) => {
        body?.destroy();
        reject(GatewayRequestError.unreachable(this.base.origin, error));
      });
      request.once('response', (response) => {
        if ((response.statusCode ?? 0) < 300) return resolve(response);
        // A refusal can come before the body is sent (a wrong key, a full quota): stop sending it.
        body?.unpipe(request);
        body?.destroy();
        textOf(response).then((text) => reject(refusal(response.statusCode ?? 0, text)), reject);
      });
      if (!body) return request.end();
      body.once('error', (error) => request.destroy(error));
      body.pipe(request);
    });
  }
}

/** The error of a refused request, from the gateway's JSON error body when it sent one. */
function refusal(httpStatus: number, text: string): GatewayRequestError {
  let body: GatewayErrorBody | undefined;
  try {
    body = JSON.parse(text) as GatewayErrorBody;
  } catch {
    body = undefined;
  }
  return body && typeof body.message === 'string' && typeof body.status === 'string' ? GatewayRequestError.fromBody(httpStatus, body) : GatewayRequestError.fromText(httpStatus, text);
}

async function textOf(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A path segment of a byte route, encoded (a version's file path keeps its slashes). */
export function routePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
