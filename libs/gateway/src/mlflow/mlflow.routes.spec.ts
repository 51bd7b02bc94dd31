import { createLogger } from '@trellis/platform';
import { Gateway } from '../gateway';
import { proxiedArtifactPath } from './artifacts.routes';

/** The MLflow routes of a gateway with no upstreams: what they answer before calling any service. */
describe('MLflow routes', () => {
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    gateway = new Gateway({ upstreams: {}, maxBodyBytes: 1024, logger: createLogger({ level: 'silent' }) });
    base = await gateway.listen('127.0.0.1', 0);
  });

  afterAll(() => gateway.close());

  const send = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${base}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    return { status: response.status, allow: response.headers.get('allow'), body: (await response.json()) as unknown };
  };

  it('serves every route under /api/2.0 and /ajax-api/2.0, with and without a /projects/<name> prefix', () => {
    const patterns = new Set(gateway.router.routes().map((route) => `${route.method} ${route.pattern}`));
    for (const prefix of ['/api/2.0', '/ajax-api/2.0', '/projects/:project/api/2.0', '/projects/:project/ajax-api/2.0']) {
      for (const route of [
        'POST /mlflow/runs/log-batch',
        'GET /mlflow/metrics/get-history-bulk-interval',
        'PUT /mlflow-artifacts/artifacts/*',
        'GET /mlflow/experiments/search',
        'PATCH /mlflow/registered-models/update',
        'DELETE /mlflow/registered-models/alias',
        'GET /mlflow/model-versions/search',
        'GET /mlflow-artifacts/artifacts/models/*',
      ]) {
        const [method, path] = route.split(' ');
        expect(patterns).toContain(`${method} ${prefix}${path}`);
      }
    }
  });

  it('answers an unknown MLflow path with 404 ENDPOINT_NOT_FOUND, and a known one with the wrong method with 405 naming the right one', async () => {
    expect(await send('POST', '/api/2.0/mlflow/logged-models', '{}')).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    expect(await send('GET', '/projects/p/ajax-api/2.0/mlflow/runs/log-batch')).toMatchObject({ status: 405, allow: 'POST', body: { error_code: 'BAD_REQUEST' } });
    expect(await send('POST', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x')).toMatchObject({ status: 405, allow: 'GET, PUT, DELETE' });
  });

  it("answers MLflow's server routes outside the API prefixes as MLflow does: files for the UI, GraphQL as an unknown endpoint", async () => {
    const patterns = new Set(gateway.router.routes().map((route) => `${route.method} ${route.pattern}`));
    for (const base of ['', '/projects/:project']) {
      expect(patterns).toContain(`GET ${base}/get-artifact`);
      expect(patterns).toContain(`GET ${base}/model-versions/get-artifact`);
    }
    for (const method of ['GET', 'POST']) {
      expect(await send(method, '/graphql', method === 'POST' ? '{}' : undefined)).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    }
    expect(await send('GET', `/get-artifact?run_id=${'a'.repeat(32)}&path=..%2F..%2Fsecrets`)).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' } });
    expect(await send('GET', '/model-versions/get-artifact?name=churn&version=1')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'path'") } });
  });

  it("answers the UI's AI-gateway proxy as MLflow without a deployments target, and its prompt-lab runs as an unknown endpoint", async () => {
    expect(await send('GET', '/ajax-api/2.0/mlflow/gateway-proxy?gateway_path=api/2.0/endpoints/')).toMatchObject({ status: 200, body: { endpoints: [] } });
    expect(await send('POST', '/ajax-api/2.0/mlflow/gateway-proxy', '{"gateway_path": "gateway/chat/invocations"}')).toMatchObject({ status: 200, body: { endpoints: [] } });
    expect(await send('POST', '/ajax-api/2.0/mlflow/runs/create-promptlab-run', '{}')).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
  });

  it('refuses what MLflow refuses before calling tracking: log-inputs without datasets, a mistyped artifact_location, too many runs a page', async () => {
    expect(await send('POST', '/api/2.0/mlflow/runs/log-inputs', '{"run_id": "r"}')).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: "Missing value for required parameter 'datasets'. See the API docs for more information about request parameters." },
    });
    expect(await send('POST', '/api/2.0/mlflow/experiments/create', '{"name": "e", "artifact_location": 5}')).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/^Invalid value 5 for parameter 'artifact_location' supplied: {2}Hint: Value was of type 'int'\./) },
    });
    expect(await send('POST', '/api/2.0/mlflow/runs/search', '{"experiment_ids": ["1"], "max_results": 123456789}')).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/^Invalid value 123456789 for parameter 'max_results' supplied/) },
    });
    const badStep = JSON.stringify({ run_id: 'r', key: 'k', value: 1, timestamp: 1, step: 'foo' });
    expect(await send('POST', '/api/2.0/mlflow/runs/log-metric', badStep)).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^Invalid value "foo" for parameter 'step' supplied/) } });
  });

  it("refuses artifact paths that climb out of a run's artifacts with MLflow's 400 Invalid path", async () => {
    const run = 'a'.repeat(32);
    for (const path of [`1/${run}/artifacts/../../2`, `1/${run}/artifacts/..%2F..%2F2`, `1/${run}/artifacts/%252e%252e/x`, `/1/${run}/artifacts`]) {
      expect([path, await send('GET', `/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path })}`)]).toMatchObject([path, { status: 400, body: { message: 'Invalid path' } }]);
    }
    expect(await send('GET', `/api/2.0/mlflow/artifacts/list?run_id=${run}&path=..`)).toMatchObject({ status: 400, body: { message: 'Invalid path' } });
    expect(await send('PUT', `/api/2.0/mlflow-artifacts/artifacts/1/${run}/artifacts/a/%2e%2e%2f%2e%2e/x`, 'data')).toMatchObject({ status: 400, body: { message: 'Invalid path' } });
  });

  it('refuses a log-batch body over 1 MB with 400 INVALID_PARAMETER_VALUE naming the limit, before calling tracking', async () => {
    const body = JSON.stringify({ run_id: 'r', params: [{ key: 'k', value: 'x'.repeat(1_000_000) }] });
    expect(await send('POST', '/api/2.0/mlflow/runs/log-batch', body)).toEqual({
      status: 400,
      allow: null,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: "the request body is larger than this route's limit of 1000000 bytes" },
    });
  });

  it('names the field a request lacks or mistypes, before calling tracking', async () => {
    expect(await send('POST', '/api/2.0/mlflow/runs/log-batch', '{"metrics": []}')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'run_id'") } });
    const badStep = JSON.stringify({ run_id: 'r', metrics: [{ key: 'k', value: 1, timestamp: 1 }, { key: 'k', value: 1, timestamp: 1, step: 'two' }] });
    expect(await send('POST', '/api/2.0/mlflow/runs/log-batch', badStep)).toMatchObject({ status: 400, body: { message: expect.stringContaining("'metrics[1].step'") } });
    expect(await send('GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval?metric_key=loss')).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('run_id') },
    });
  });

  it("reads a registry DELETE's fields from its JSON body, or from the query string when it has none", async () => {
    expect(await send('DELETE', '/api/2.0/mlflow/model-versions/delete?name=churn')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'version'") } });
    expect(await send('DELETE', '/api/2.0/mlflow/model-versions/delete', '{"name": "churn"}')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'version'") } });
    expect(await send('DELETE', '/api/2.0/mlflow/model-versions/delete')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'name'") } });
  });

  it('refuses a registry search it cannot answer before calling the registry', async () => {
    expect(await send('GET', `/api/2.0/mlflow/registered-models/search?${new URLSearchParams({ filter: "name = 'a' OR name = 'b'" })}`)).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'filter: expected AND at position 11, found "OR"' },
    });
    expect(await send('GET', '/api/2.0/mlflow/registered-models/search?max_results=1001')).toMatchObject({ status: 400, body: { message: expect.stringContaining("'max_results'") } });
    expect(await send('GET', '/api/2.0/mlflow/registered-models/search?order_by=creation_timestamp+DESC')).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('registered models come in one order, name ASC') },
    });
  });

  it('answers an unavailable tracking service with 503 TEMPORARILY_UNAVAILABLE', async () => {
    expect(await send('GET', `/api/2.0/mlflow/runs/get?run_id=${'a'.repeat(32)}`)).toMatchObject({ status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE' } });
  });

  it('answers /health, /version and the multipart capability probe', async () => {
    expect(await (await fetch(`${base}/health`)).text()).toBe('OK');
    expect(await (await fetch(`${base}/projects/p/version`)).text()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await (await fetch(`${base}/projects/p/api/3.0/mlflow/server-info`)).json()).toEqual({ multipart_uploads_enabled: false, multipart_downloads_enabled: false });
  });

  it("reads a proxied artifact path as the run and the path under its root, refusing paths outside a run's artifacts", () => {
    expect(proxiedArtifactPath(`3/${'a'.repeat(32)}/artifacts/model/weights.bin`)).toEqual({ runId: 'a'.repeat(32), path: 'model/weights.bin' });
    expect(proxiedArtifactPath('3/abc/artifacts/')).toEqual({ runId: 'abc', path: '' });
    expect(() => proxiedArtifactPath('3/abc/other/x')).toThrow("expected <experiment_id>/<run_id>/artifacts[/<path>]");
    expect(() => proxiedArtifactPath('3')).toThrow();
  });

  it('reads the . and empty segments MLflow clients send as the paths they resolve to', () => {
    expect(proxiedArtifactPath('3/abc/artifacts/.')).toEqual({ runId: 'abc', path: '' });
    expect(proxiedArtifactPath('3//abc/./artifacts/model/./weights.bin')).toEqual({ runId: 'abc', path: 'model/weights.bin' });
  });
});
