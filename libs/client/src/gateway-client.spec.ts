import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiKeySession } from './api-key-session';
import { GatewayClient } from './gateway-client';
import { GatewayRequestError } from './gateway-error';
import { hasRole, tokenClaims } from './token-claims';

/** A token with these claims (unsigned: the client reads claims, the services check signatures). */
function tokenWith(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe('GatewayClient', () => {
  let server: Server;
  let url: string;
  let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => handle(req, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts a call as JSON with the credential and returns the answer', async () => {
    let seen: { method?: string; path?: string; authorization?: string; type?: string; body?: string } = {};
    handle = (req, body, res) => {
      seen = { method: req.method, path: req.url, authorization: req.headers.authorization, type: req.headers['content-type'], body };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"runs":[{"info":{"runId":"r1"}}]}');
    };
    const client = new GatewayClient({ url: `${url}/`, credential: 'trellis_key' });
    const answer = await client.call<{ runs: unknown[] }>('trellis.tracking.v1.RunService/SearchRuns', { experimentIds: ['1'] });
    expect(answer).toEqual({ runs: [{ info: { runId: 'r1' } }] });
    expect(seen).toEqual({ method: 'POST', path: '/v1/trellis.tracking.v1.RunService/SearchRuns', authorization: 'Bearer trellis_key', type: 'application/json', body: '{"experimentIds":["1"]}' });
  });

  it("throws the gateway's error with its status, reason, request id and fields", async () => {
    handle = (_req, _body, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({ code: 3, status: 'INVALID_ARGUMENT', message: 'filter is not valid', request_id: 'req-1', reason: 'INVALID_FILTER', field_violations: [{ field: 'filter', description: 'unexpected token at 7' }] }),
      );
    const error = await new GatewayClient({ url }).call('trellis.tracking.v1.RunService/SearchRuns', {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect(error).toMatchObject({ httpStatus: 400, status: 'INVALID_ARGUMENT', reason: 'INVALID_FILTER', requestId: 'req-1', message: 'filter is not valid; filter: unexpected token at 7' });
  });

  it('names a status for an answer that is not an error body, and says when nothing answers', async () => {
    handle = (_req, _body, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    await expect(new GatewayClient({ url }).json('/anything')).rejects.toMatchObject({ httpStatus: 502, status: 'UNAVAILABLE', message: 'HTTP 502: <html>Bad Gateway</html>' });
    // A port that was free a moment ago: its server is closed before the call.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const nowhere = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(new GatewayClient({ url: nowhere }).call('a.b/C')).rejects.toMatchObject({ httpStatus: 0, reason: 'GATEWAY_UNREACHABLE', message: expect.stringContaining(`cannot reach the gateway at ${nowhere} (ECONNREFUSED)`) });
  });

  it('yields each NDJSON line of a stream as it comes, and throws the error line that ends one', async () => {
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"line":"first"}\n{"li');
      res.write('ne":"second"}\n\n');
      res.end('{"error":{"code":14,"status":"UNAVAILABLE","message":"compute went away"}}\n');
    };
    const lines: string[] = [];
    const error = await (async () => {
      for await (const message of new GatewayClient({ url }).stream<{ line: string }>('trellis.compute.v1.JobService/StreamJobLogs', {})) lines.push(message.line);
    })().catch((caught: unknown) => caught);
    expect(lines).toEqual(['first', 'second']);
    expect(error).toMatchObject({ status: 'UNAVAILABLE', message: 'compute went away' });
  });
});

describe('ApiKeySession', () => {
  it('exchanges the key once, reuses the token until a minute before it expires, then exchanges again', async () => {
    const exchanges: string[] = [];
    let expiresIn = 3600;
    const fetcher = (async (_input: unknown, init?: RequestInit) => {
      exchanges.push(String(init?.body));
      const exp = Math.floor(Date.now() / 1000) + expiresIn;
      return new Response(JSON.stringify({ token: tokenWith({ sub: `u${exchanges.length}`, exp, bindings: [{ project: 'p1', role: 'editor' }] }), expireTime: new Date(exp * 1000).toISOString() }), { status: 200 });
    }) as typeof fetch;
    expiresIn = 30;
    const session = await ApiKeySession.signIn('http://gateway', ' trellis_key \n', fetcher);
    expect(exchanges).toEqual(['{"apiKey":"trellis_key"}']);
    // It expires within a minute: the next credential is a new exchange.
    expiresIn = 3600;
    const renewed = await session.credential();
    expect(tokenClaims(renewed).subject).toBe('u2');
    expect(await session.credential()).toBe(renewed);
    expect(exchanges).toHaveLength(2);
    expect(hasRole(session.claims, 'p1', 'editor')).toBe(true);
  });
});

describe('tokenClaims and hasRole', () => {
  const claims = tokenClaims(tokenWith({ sub: 'u1', kind: 'user', exp: 2_000_000_000, bindings: [{ project: 'p1', role: 'viewer' }, { project: 'p2', role: 'admin' }, { project: 'p3', role: 'emperor' }] }));

  it('reads the bearer, its roles and expiry, dropping bindings it does not know', () => {
    expect(claims).toEqual({ subject: 'u1', kind: 'user', orgAdmin: false, bindings: [{ projectId: 'p1', role: 'viewer' }, { projectId: 'p2', role: 'admin' }], expiresAt: 2_000_000_000_000, scoped: false });
  });

  it('grants a role and every weaker one, nothing in other projects, and everything to an org admin', () => {
    expect([hasRole(claims, 'p1', 'viewer'), hasRole(claims, 'p1', 'editor'), hasRole(claims, 'p2', 'editor'), hasRole(claims, 'p2', 'owner'), hasRole(claims, 'p9', 'viewer')]).toEqual([true, false, true, false, false]);
    expect(hasRole({ ...claims, orgAdmin: true }, 'p9', 'owner')).toBe(true);
  });

  it('refuses what is not a token', () => {
    expect(() => tokenClaims('trellis_notatoken')).toThrow('not a token');
  });
});
