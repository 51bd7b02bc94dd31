import { status } from '@grpc/grpc-js';
import { createLogger, Metrics } from '@trellis/platform';
import { eventually } from '@trellis/testing';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { EchoService, startEchoServer } from '../test/echo-service';
import { GatewayError } from './errors/gateway-error';
import { grpcToMlflow } from './errors/status-mapping';
import { Gateway } from './gateway';

const ECHO = `/v1/${EchoService.typeName}`;

describe('the gateway over HTTP', () => {
  let echo: { address: string; stop(): Promise<void> };
  let gateway: Gateway;
  let base: string;
  const metrics = new Metrics();

  beforeAll(async () => {
    echo = await startEchoServer();
    gateway = new Gateway({
      upstreams: { echo: echo.address },
      maxBodyBytes: 1024,
      logger: createLogger({ level: 'silent' }),
      metrics,
      services: { echo: [EchoService], governance: [IdentityServiceDesc, TokenServiceDesc] },
    });
    base = await gateway.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    await gateway.close();
    await echo.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const lines = async (response: Response) => (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as unknown);

  it('answers a unary call in the protobuf JSON mapping, with every field present', async () => {
    const response = await post(`${ECHO}/Echo`, '{"text": "hi", "count": 3}', { 'content-type': 'application/json' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ text: 'hi', count: '3' });

    // An empty body is the empty message, whatever content type curl -d sends.
    const empty = await post(`${ECHO}/Echo`, '', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(await empty.json()).toEqual({ text: '', count: '0' });
  });

  it('echoes the request id and sends it upstream with the bearer token as given', async () => {
    const response = await post(`${ECHO}/Echo`, '{"text": "whoami"}', { 'x-request-id': 'req-42', authorization: 'Bearer a.b.c' });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(await response.json()).toMatchObject({ text: 'Bearer a.b.c|req-42' });

    const generated = await post(`${ECHO}/Echo`, '{"text": "whoami"}', { 'x-request-id': 'not a sane id!' });
    const id = generated.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await generated.json()).toMatchObject({ text: `|${id}` });
  });

  it('refuses an unknown field with 400 naming it', async () => {
    const response = await post(`${ECHO}/Echo`, '{"text": "hi", "colour": "red"}', { 'x-request-id': 'req-1' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: status.INVALID_ARGUMENT,
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining('key "colour" is unknown'),
      request_id: 'req-1',
      reason: 'INVALID_ARGUMENT',
      domain: 'gateway.trellis',
      metadata: {},
      field_violations: [],
    });
  });

  it('answers a malformed body with 400, and stays up', async () => {
    const malformed = await post(`${ECHO}/Echo`, '{"text": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('not valid JSON') });
    const wrongType = await post(`${ECHO}/Echo`, '{"count": "many"}');
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ message: expect.stringContaining('count') });
    expect((await post(`${ECHO}/Echo`, '[1, 2]')).status).toBe(400);
    expect((await post(`${ECHO}/Echo`, '{}')).status).toBe(200);
  });

  it('maps an upstream status to HTTP and keeps its message', async () => {
    const response = await post(`${ECHO}/Echo`, '{"text": "missing"}');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: status.NOT_FOUND, status: 'NOT_FOUND', message: 'no echo named missing' });
  });

  it("carries an upstream's google.rpc.Status details in the error body: reason, domain, metadata, field violations, retry delay", async () => {
    const missing = await post(`${ECHO}/Echo`, '{"text": "missing-detailed"}', { 'x-request-id': 'req-d' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: status.NOT_FOUND,
      status: 'NOT_FOUND',
      message: 'no echo named missing',
      request_id: 'req-d',
      reason: 'ECHO_NOT_FOUND',
      domain: 'echo.trellis',
      metadata: { resource: 'echoes/missing' },
      field_violations: [],
    });
    const bad = await post(`${ECHO}/Echo`, '{"text": "bad"}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ reason: 'INVALID_ARGUMENT', field_violations: [{ field: 'text', description: 'must not be "bad"', reason: 'TEXT_FORBIDDEN' }] });
    const busy = await post(`${ECHO}/Echo`, '{"text": "busy-detailed"}');
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('3');
    expect(await busy.json()).toMatchObject({ reason: 'ECHO_QUOTA_EXCEEDED', domain: 'echo.trellis', retry_delay_seconds: 2.5 });
  });

  it("names the code as the reason, in the gateway's domain, where no service sent details", async () => {
    expect(await (await post(`${ECHO}/Echo`, '{"text": "missing"}')).json()).toMatchObject({ reason: 'NOT_FOUND', domain: 'gateway.trellis', metadata: {}, field_violations: [] });
    expect(await (await post('/v1/trellis.nothing.v1.NoService/Nothing', '{}')).json()).toMatchObject({ reason: 'NOT_FOUND', domain: 'gateway.trellis' });
  });

  it('answers 404 for an unknown route and 405 naming the methods of a known one', async () => {
    const unknown = await post('/v1/trellis.nothing.v1.NoService/Nothing', '{}');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: 'NOT_FOUND', message: expect.stringContaining('no route for POST /v1/trellis.nothing.v1.NoService/Nothing') });

    const wrongMethod = await fetch(`${base}${ECHO}/Echo`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toMatchObject({ message: 'GET is not allowed on /v1/trellis.gatewaytest.v1.EchoService/Echo; it answers POST' });
  });

  it('counts requests by route pattern, method and status on the process metrics, never by raw path', async () => {
    await (await post(`${ECHO}/Echo`, '{"text":"hi"}')).text();
    await (await post('/v1/unknown/path-1', '{}')).text();
    await (await post('/v1/unknown/path-2', '{}')).text();
    await (await fetch(`${base}${ECHO}/Echo`, { method: 'PROPFIND' })).text();
    // Counted when the response closes, a moment after the client has it.
    const text = await eventually(async () => {
      const exposed = await metrics.registry.metrics();
      expect(exposed).toContain('method="OTHER"');
      return exposed;
    });
    expect(text).toMatch(new RegExp(`trellis_http_requests_total\\{edge="gateway",route="/v1/${EchoService.typeName.replace(/\./g, '\\.')}/Echo",method="POST",status="200"\\} [1-9]`));
    expect(text).toMatch(/trellis_http_requests_total\{edge="gateway",route="unmatched",method="POST",status="404"\} [2-9]/);
    expect(text).toMatch(/trellis_http_requests_total\{edge="gateway",route="[^"]*",method="OTHER",status="405"\} 1/);
    expect(text).not.toContain('path-1');
    expect(text).toContain('trellis_http_request_duration_seconds_bucket');
  });

  it('answers 413 naming the limit when a body is larger than the route takes', async () => {
    const response = await post(`${ECHO}/Echo`, JSON.stringify({ text: 'x'.repeat(2000) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ status: 'RESOURCE_EXHAUSTED', message: "the request body is larger than this route's limit of 1024 bytes" });

    // Without a content-length, the limit is found while reading.
    const chunks = ['{"text": "', 'x'.repeat(600), 'x'.repeat(600), '"}'];
    const body = new ReadableStream({ pull: (controller) => (chunks.length ? controller.enqueue(new TextEncoder().encode(chunks.shift())) : controller.close()) });
    const chunked = await fetch(`${base}${ECHO}/Echo`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await post(`${ECHO}/Echo`, '{}')).status).toBe(200);
  });

  it('answers 503 naming the service when no upstream is configured for it', async () => {
    const response = await post(`/v1/${IdentityServiceDesc.typeName}/ListProjects`, '{}');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'UNAVAILABLE',
      message: expect.stringContaining('answered by the governance service, and no address is configured for it: set gateway.upstreams.governance (TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE)'),
    });
    // An API key needs governance to exchange it, even for a call to another service.
    const key = `trellis_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const exchange = await post(`${ECHO}/Echo`, '{}', { authorization: `Bearer ${key}` });
    expect(exchange.status).toBe(503);
    expect(await exchange.json()).toMatchObject({ message: expect.stringContaining(`${TokenServiceDesc.typeName} is answered by the governance service`) });
  });

  it('answers 401 to a malformed authorization header', async () => {
    const response = await post(`${ECHO}/Echo`, '{}', { authorization: 'Digest abc' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ status: 'UNAUTHENTICATED', message: expect.stringContaining('malformed authorization header') });
  });

  it('streams a server-streaming answer as NDJSON, one message per line', async () => {
    const response = await post(`${ECHO}/Repeat`, '{"text": "tick", "count": 3}');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await lines(response)).toEqual([0, 1, 2].map((count) => ({ text: 'tick', count: String(count) })));
  });

  it('ends a stream that fails after it started with an error line', async () => {
    const response = await post(`${ECHO}/Repeat`, '{"text": "fail-at-end", "count": 2}', { 'x-request-id': 'req-s' });
    expect(response.status).toBe(200);
    expect(await lines(response)).toEqual([
      { text: 'fail-at-end', count: '0' },
      { text: 'fail-at-end', count: '1' },
      { error: { code: status.DATA_LOSS, status: 'DATA_LOSS', message: 'the rest is lost', request_id: 'req-s', reason: 'DATA_LOSS', domain: 'gateway.trellis', metadata: {}, field_violations: [] } },
    ]);
  });

  it('streams an NDJSON body into a client-streaming call', async () => {
    const response = await post(`${ECHO}/Collect`, '{"text": "a", "count": 1}\n\n{"text": "b", "count": "2"}\n{"text": "c"}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ text: 'a,b,c', count: '3' });
  });

  it('refuses a bad line of an NDJSON body with 400 naming the line', async () => {
    const badJson = await post(`${ECHO}/Collect`, '{"text": "a"}\n{"text": \n');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('line 2 of the request body is not valid JSON') });

    const unknownField = await post(`${ECHO}/Collect`, '{"text": "a"}\n{"txet": "b"}\n');
    expect(await unknownField.json()).toMatchObject({ message: expect.stringMatching(/^line 2 of the request body: .*key "txet" is unknown/) });

    const tooLong = await post(`${ECHO}/Collect`, `{"text": "${'x'.repeat(2000)}"}\n`);
    expect(tooLong.status).toBe(413);
    expect(await tooLong.json()).toMatchObject({ message: "line 1 of the request body is larger than this route's limit of 1024 bytes" });
  });

  it('streams a bidi call both ways as NDJSON', async () => {
    const response = await post(`${ECHO}/Chat`, '{"text": "a"}\n{"text": "b", "count": 7}\n');
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await lines(response)).toEqual([
      { text: 'A', count: '0' },
      { text: 'B', count: '7' },
    ]);
  });

  it('lets a route module add routes with path parameters and its own error body', async () => {
    const mlflowError = (error: GatewayError) => {
      const { errorCode, httpStatus } = grpcToMlflow(error.code);
      return { status: httpStatus, body: { error_code: errorCode, message: error.message } };
    };
    gateway.router.add(
      'GET',
      '/example/artifacts/*',
      (ctx) => {
        if (ctx.params['*'].endsWith('missing.txt')) throw { code: status.NOT_FOUND, details: `no artifact ${ctx.params['*']}` };
        ctx.sendJson(200, { path: ctx.params['*'], run: ctx.query.get('run_id') });
      },
      { renderError: mlflowError },
    );
    const found = await fetch(`${base}/example/artifacts/1/abc/artifacts/model%20v1/MLmodel?run_id=abc`);
    expect(await found.json()).toEqual({ path: '1/abc/artifacts/model v1/MLmodel', run: 'abc' });
    const missing = await fetch(`${base}/example/artifacts/1/missing.txt`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no artifact 1/missing.txt' });
  });
});

describe('closing the gateway', () => {
  it('stops accepting connections and lets requests in flight finish', async () => {
    const gateway = new Gateway({ upstreams: {}, maxBodyBytes: 1024, logger: createLogger({ level: 'silent' }), services: {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    gateway.router.add('GET', '/slow', async (ctx) => {
      arrived();
      await released;
      ctx.sendJson(200, { done: true });
    });
    const base = await gateway.listen('127.0.0.1', 0);
    const slow = fetch(`${base}/slow`);
    await inFlight;

    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    await expect(fetch(`${base}/slow`)).rejects.toThrow();
    expect(closed).toBe(false);
    release();
    expect(await (await slow).json()).toEqual({ done: true });
    await closing;
    expect(closed).toBe(true);
  });
});

