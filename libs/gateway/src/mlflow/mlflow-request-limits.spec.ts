import { createLogger } from '@trellis/platform';
import { Gateway } from '../gateway';

/** What the MLflow routes refuse about a request's shape before reading its fields or calling a service. */
describe('MLflow request limits', () => {
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    gateway = new Gateway({ upstreams: {}, maxBodyBytes: 1_000_000, logger: createLogger({ level: 'silent' }) });
    base = await gateway.listen('127.0.0.1', 0);
  });

  afterAll(() => gateway.close());

  const post = async (path: string, body: string) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('refuses tags nested 100,000 levels deep with 400 INVALID_PARAMETER_VALUE naming the limit', async () => {
    const tags = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(await post('/api/2.0/mlflow/experiments/create', `{"name": "e", "tags": ${tags}}`)).toEqual({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'the request body nests deeper than 64 levels' },
    });
  });

  it('reads a body nested as deep as the limit, refusing the mistyped field it holds', async () => {
    const tags = `${'['.repeat(62)}${']'.repeat(62)}`;
    expect(await post('/api/2.0/mlflow/experiments/create', `{"name": "e", "tags": [${tags}]}`)).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/^Invalid value \[\[\[.* for parameter 'tags\[0\]' supplied/) },
    });
  });
});
