import { startEchoGateway, type EchoGateway } from '../../test/echo-gateway';
import { EchoService } from '../../test/echo-service';

const ECHO = `/v1/${EchoService.typeName}/Echo`;

/** JSON routes read a body only when it is sent as JSON. */
describe('the Content-Type of JSON routes', () => {
  let echo: EchoGateway;

  beforeAll(async () => (echo = await startEchoGateway()));
  afterAll(() => echo.close());

  /** POSTs `body`; a Uint8Array goes without a Content-Type (fetch labels a string text/plain). */
  const post = async (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const response = await fetch(`${echo.base}${path}`, { method: 'POST', body, headers: { 'x-request-id': 'req-ct', ...headers } });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const json = (type: string) => ({ 'content-type': type });

  it('reads application/json, with any parameters and in any case', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      expect(await post(ECHO, '{"text": "hi"}', json(type))).toEqual({ status: 200, body: { text: 'hi', count: '0' } });
    }
  });

  it('answers a body sent as another type, or as none, with 415 in the gateway error shape', async () => {
    expect(await post(ECHO, '{"text": "hi"}')).toEqual({
      status: 415,
      body: {
        code: 3,
        status: 'INVALID_ARGUMENT',
        message: 'the request body must be JSON sent with Content-Type: application/json; this request has Content-Type: text/plain;charset=UTF-8',
        request_id: 'req-ct',
        reason: 'INVALID_ARGUMENT',
        domain: 'gateway.trellis',
        metadata: {},
        field_violations: [],
      },
    });
    expect(await post(ECHO, '{"text": "hi"}', json('application/x-www-form-urlencoded'))).toMatchObject({ status: 415 });
    expect(await post(ECHO, '{"text": "hi"}', json('application/jsonp'))).toMatchObject({ status: 415 });
    expect(await post(ECHO, new TextEncoder().encode('{"text": "hi"}'))).toMatchObject({
      status: 415,
      body: { message: 'the request body must be JSON sent with Content-Type: application/json; this request has no Content-Type' },
    });
    const long = await post(ECHO, '{}', json(`text/${'x'.repeat(500)}`));
    expect((long.body as { message: string }).message).toMatch(/this request has Content-Type: text\/x{59}\.\.\.$/);
  });

  it('takes an empty body as the empty message whatever its type, since it reads nothing', async () => {
    expect(await post(ECHO, '', json('application/x-www-form-urlencoded'))).toEqual({ status: 200, body: { text: '', count: '0' } });
    expect(await post(ECHO, new Uint8Array())).toEqual({ status: 200, body: { text: '', count: '0' } });
  });

  it("answers MLflow's routes with 415 in MLflow's error shape", async () => {
    expect(await post('/api/2.0/mlflow/experiments/create', '{"name": "e"}', json('text/plain'))).toEqual({
      status: 415,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'the request body must be JSON sent with Content-Type: application/json; this request has Content-Type: text/plain',
      },
    });
    // Sent as JSON, the body is read: here it lacks the name.
    expect(await post('/api/2.0/mlflow/experiments/create', '{}', json('application/json'))).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("Missing value for required parameter 'name'") },
    });
  });
});
