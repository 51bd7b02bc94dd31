import { createLogger } from '@trellis/platform';
import { EchoService, startEchoServer } from '../../test/echo-service';
import { Gateway } from '../gateway';

const ECHO = `/v1/${EchoService.typeName}`;

/** What the generic RPC routes refuse about a JSON body before decoding it as a message. */
describe('RPC routes over JSON', () => {
  let echo: { address: string; stop(): Promise<void> };
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    echo = await startEchoServer();
    gateway = new Gateway({ upstreams: { echo: echo.address }, maxBodyBytes: 1_000_000, logger: createLogger({ level: 'silent' }), services: { echo: [EchoService] } });
    base = await gateway.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    await gateway.close();
    await echo.stop();
  });

  const post = async (path: string, body: string) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-request-id': 'req-deep' } });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const nested = (levels: number) => `{"text": ${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

  it('refuses a body nested deeper than 64 levels with 400 naming the limit, in the gateway error shape', async () => {
    expect(await post(`${ECHO}/Echo`, nested(100_000))).toEqual({
      status: 400,
      body: {
        code: 3,
        status: 'INVALID_ARGUMENT',
        message: 'the request body nests deeper than 64 levels',
        request_id: 'req-deep',
        reason: 'INVALID_ARGUMENT',
        domain: 'gateway.trellis',
        metadata: {},
        field_violations: [],
      },
    });
    expect(await post(`${ECHO}/Repeat`, nested(65))).toMatchObject({ status: 400, body: { message: 'the request body nests deeper than 64 levels' } });
  });

  it('decodes a body nested 64 levels deep, answering what is wrong with the field', async () => {
    expect(await post(`${ECHO}/Echo`, nested(64))).toMatchObject({ status: 400, body: { message: expect.stringContaining('text') } });
  });

  it('refuses a line of an NDJSON body nested deeper than 64 levels, naming the line and the limit', async () => {
    expect(await post(`${ECHO}/Collect`, `{"text": "a"}\n${nested(100_000)}\n`)).toMatchObject({
      status: 400,
      body: { status: 'INVALID_ARGUMENT', message: 'line 2 of the request body nests deeper than 64 levels' },
    });
  });
});
