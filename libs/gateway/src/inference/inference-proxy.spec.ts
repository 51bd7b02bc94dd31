import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedPort } from '@trellis/testing';
import { startEchoGateway, type EchoGateway } from '../../test/echo-gateway';
import { MAX_INFER_BODY_BYTES } from './inference-proxy';

/** What serving's REST API received. */
interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bytes: number;
}

/** An HTTP server in serving's place: it reads the body and answers as serving does, naming a revision; `/v2/break` drops the connection unanswered. */
async function startUpstream(): Promise<{ address: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.url === '/v2/break') return req.socket.destroy();
    let bytes = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) bytes += chunk.length;
    } catch {
      // The gateway cut an upload that went over its limit.
      return;
    }
    received.push({ method: req.method!, url: req.url!, headers: req.headers, bytes });
    res.writeHead(req.url === '/v2/models/none' ? 404 : 200, { 'content-type': 'application/json', 'trellis-revision': 'rev-7' });
    res.end(JSON.stringify(req.url === '/v2/models/none' ? { error: 'no endpoint none' } : { model_name: 'scale', bytes }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the gateway forwarding /v2 to serving\'s OIP REST API', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let echo: EchoGateway;
  const token = 'header.payload.signature';

  beforeAll(async () => {
    upstream = await startUpstream();
    echo = await startEchoGateway({ inference: { address: upstream.address } });
  });
  afterAll(async () => {
    await echo.close();
    await upstream.stop();
  });

  it('sends the request with its path, query, body and the caller\'s token, and returns serving\'s status, headers and body', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    const response = await fetch(`${echo.base}/v2/models/scale/versions/2/infer?trace=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'trellis-revision': '2', 'x-request-id': 'req-oip' },
      body,
    });
    expect({ status: response.status, revision: response.headers.get('trellis-revision'), body: await response.json() }).toEqual({ status: 200, revision: 'rev-7', body: { model_name: 'scale', bytes: body.length } });
    expect(upstream.received.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v2/models/scale/versions/2/infer?trace=1',
      headers: { authorization: `Bearer ${token}`, 'trellis-revision': '2', 'x-request-id': 'req-oip', 'content-type': 'application/json' },
      bytes: body.length,
    });
  });

  it('passes serving\'s errors back as they are, and forwards GET /v2 without credentials', async () => {
    const missing = await fetch(`${echo.base}/v2/models/none`, { headers: { authorization: `Bearer ${token}` } });
    expect({ status: missing.status, body: await missing.json() }).toEqual({ status: 404, body: { error: 'no endpoint none' } });
    expect((await fetch(`${echo.base}/v2`)).status).toBe(200);
    expect(upstream.received.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('streams a body of any length up to the limit, and answers 413 past it without sending it all', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 1);
    const chunks = (count: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < count; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
    const post = (count: number) => fetch(`${echo.base}/v2/models/scale/infer`, { method: 'POST', body: chunks(count), duplex: 'half' } as RequestInit);
    const fits = await post(MAX_INFER_BODY_BYTES / chunk.length);
    expect(await fits.json()).toEqual({ model_name: 'scale', bytes: MAX_INFER_BODY_BYTES });
    const before = upstream.received.length;
    const tooLarge = await post(MAX_INFER_BODY_BYTES / chunk.length + 1).catch((error: unknown) => error);
    // The gateway answers 413 and closes the connection; the client may see either, never a 200.
    if (tooLarge instanceof Response) expect({ status: tooLarge.status, body: await tooLarge.json() }).toEqual({ status: 413, body: { error: `the request body is larger than this route's limit of ${MAX_INFER_BODY_BYTES} bytes` } });
    expect(upstream.received.length).toBe(before);
  });

  it('answers 502 when serving drops the connection before answering', async () => {
    const response = await fetch(`${echo.base}/v2/break`);
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 502, body: { error: expect.stringMatching(/^serving's inference REST API at 127\.0\.0\.1:\d+ \(gateway\.upstreams\.inference \(TRELLIS_GATEWAY_UPSTREAM_INFERENCE\)\) broke off its answer/) } });
  });
});

describe('the gateway with serving\'s REST API down or not configured', () => {
  it('answers 503 naming the address and the setting when nothing answers there', async () => {
    const port = await closedPort();
    const echo = await startEchoGateway({ inference: { address: `127.0.0.1:${port}` } });
    try {
      const response = await fetch(`${echo.base}/v2/health/ready`);
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 503,
        body: { error: `serving's inference REST API at 127.0.0.1:${port} (gateway.upstreams.inference (TRELLIS_GATEWAY_UPSTREAM_INFERENCE)) is not answering (ECONNREFUSED); check that it runs there` },
      });
      await expect(echo.gateway.inference.checkHealth()).rejects.toThrow(/is not answering \(ECONNREFUSED\)/);
    } finally {
      await echo.close();
    }
  });

  it('answers 503 naming the setting when no address is configured', async () => {
    const echo = await startEchoGateway();
    try {
      const response = await fetch(`${echo.base}/v2/models/scale/infer`, { method: 'POST', body: '{}' });
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 503, body: { error: expect.stringContaining('set gateway.upstreams.inference (TRELLIS_GATEWAY_UPSTREAM_INFERENCE)') } });
    } finally {
      await echo.close();
    }
  });
});
