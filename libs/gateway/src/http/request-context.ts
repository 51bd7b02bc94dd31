import { status } from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error';
import { assertJsonContentType } from './content-type';
import { parseJson } from './json-body';

/** How a route's errors answer: an HTTP status and a JSON body. */
export type ErrorRenderer = (error: GatewayError, ctx: RequestContext) => { status: number; body: unknown };

/**
 * One HTTP request as a route handler sees it. The body is not read until the handler asks for
 * it (`body()`, `json()`), or it reads `req` as a stream itself; the response is written with
 * `sendJson()` or through `res` directly.
 */
export class RequestContext {
  private queryParams?: URLSearchParams;
  private abort?: AbortController;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The client's `x-request-id`, or a new one; echoed in the response and sent upstream. */
    readonly requestId: string,
    /** The path, without the query string, as sent (not decoded). */
    readonly path: string,
    /** Path parameters of the route, decoded. */
    readonly params: Readonly<Record<string, string>>,
    /** The largest body `body()` and `json()` read. */
    readonly maxBodyBytes: number,
    private readonly rawQuery: string,
  ) {}

  /** The query string, parsed on first use. */
  get query(): URLSearchParams {
    this.queryParams ??= new URLSearchParams(this.rawQuery);
    return this.queryParams;
  }

  /** The client's IP address as this server saw it. */
  get clientAddress(): string {
    return this.req.socket.remoteAddress ?? '';
  }

  /** Aborted when the client goes away before the response is complete (pass it to upstream calls). */
  get signal(): AbortSignal {
    if (!this.abort) {
      const abort = (this.abort = new AbortController());
      this.res.once('close', () => {
        if (!this.res.writableFinished) abort.abort();
      });
    }
    return this.abort.signal;
  }

  /** The whole body, or a 413 naming the limit when it is larger than `maxBodyBytes`. */
  body(): Promise<Buffer> {
    const limit = this.maxBodyBytes;
    const declared = Number(this.req.headers['content-length']);
    if (declared > limit) return Promise.reject(this.tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          this.req.off('data', onData);
          reject(this.tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      this.req.on('data', onData);
      this.req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
      this.req.once('error', reject);
      this.req.once('close', () => {
        if (!this.req.complete) reject(new GatewayError(status.CANCELLED, 'the client closed the connection before the whole body arrived'));
      });
    });
  }

  /**
   * The body parsed as JSON; `undefined` when it is empty (whatever its Content-Type), a 415 when
   * it is not sent as `application/json`, a 400 when it is not JSON or nests too deep.
   */
  async json(): Promise<unknown> {
    const body = await this.body();
    if (body.length === 0) return undefined;
    assertJsonContentType(this.req.headers['content-type']);
    return parseJson(body.toString('utf8'), 'the request body');
  }

  /** Answers with a JSON body. */
  sendJson(statusCode: number, value: unknown): void {
    const text = JSON.stringify(value);
    this.res.writeHead(statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  /**
   * A 413 for a body over the limit. The rest of the body is not read, so the connection closes
   * after the answer rather than carrying what is left into the next request.
   */
  tooLarge(what = 'the request body'): GatewayError {
    this.res.setHeader('connection', 'close');
    return new GatewayError(status.RESOURCE_EXHAUSTED, `${what} is larger than this route's limit of ${this.maxBodyBytes} bytes`, 413);
  }
}
