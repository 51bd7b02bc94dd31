import 'reflect-metadata';
import { gatewayEdge, EXPOSED_SERVICES } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningEdge, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { eventually, testNatsConfig } from '@trellis/testing';

const ADMIN_KEY = `trellis_00000000000000ad_${'k'.repeat(43)}`;
const WRONG_KEY = `trellis_00000000000000ad_${'w'.repeat(43)}`;

/** The gateway in front of a real governance service, called over HTTP as any client would. */
describe('the gateway in front of governance', () => {
  let platform: TestPlatform;
  let governance: RunningService;
  let gateway: RunningEdge;

  beforeAll(async () => {
    // Governance signs with its own keys, which this process serves: no test key set.
    platform = await TestPlatform.start({ TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY, TRELLIS_AUTH_JWKS_FILE: '' });
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      governance = await platform.startService(governanceService);
    } finally {
      process.stdout.write = write;
    }
    gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { governance: governance.grpcAddress } });
  });

  afterAll(async () => {
    await gateway?.close();
    await platform?.stop();
  });

  const call = (service: { typeName: string }, method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.address}/v1/${service.typeName}/${method}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const exchanges = async () =>
    (await platform.runtime.metrics.grpcHandled.get()).values
      .filter((value) => value.labels.grpc_method === 'ExchangeApiKey' && value.labels.grpc_code === 'OK')
      .reduce((sum, value) => sum + value.value, 0);

  it('answers a unary call made with an API key as Bearer', async () => {
    const response = await call(IdentityServiceDesc, 'ListProjects', {}, bearer(ADMIN_KEY));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ projects: [expect.objectContaining({ name: 'default', encryptAtRest: false })], nextPageToken: '' });
  });

  it('answers a call made with an API key as the Basic password, as the MLflow client sends it', async () => {
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`;
    const response = await call(IdentityServiceDesc, 'ListProjects', {}, { authorization: basic });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ projects: [{ name: 'default' }] });
  });

  it('forwards a token as it is', async () => {
    const { token } = await (await platform.client(TokenServiceDesc, governance.grpcAddress)).exchangeApiKey({ apiKey: ADMIN_KEY });
    const response = await call(IdentityServiceDesc, 'ListProjects', {}, bearer(token));
    expect(response.status).toBe(200);
  });

  it("refuses a wrong key with 401 and governance's reason", async () => {
    const response = await call(IdentityServiceDesc, 'ListProjects', {}, bearer(WRONG_KEY));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 16, status: 'UNAUTHENTICATED', message: expect.stringContaining('API key rejected') });
  });

  it('sends calls without credentials upstream as they are: public methods answer, others are 401', async () => {
    const anonymous = await call(IdentityServiceDesc, 'ListProjects', {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ status: 'UNAUTHENTICATED', message: expect.stringContaining('missing credentials') });

    const publicMethod = await call(TokenServiceDesc, 'GetSigningKeys', {});
    expect(publicMethod.status).toBe(200);
    expect(JSON.parse(((await publicMethod.json()) as { jwksJson: string }).jwksJson)).toMatchObject({ keys: [expect.objectContaining({ kty: 'OKP' })] });
  });

  it('refuses an unknown field with 400 naming it, and malformed JSON with 400', async () => {
    const unknown = await call(IdentityServiceDesc, 'CreateProject', { name: 'p1', colour: 'red' }, bearer(ADMIN_KEY));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('key "colour" is unknown') });

    const malformed = await call(IdentityServiceDesc, 'CreateProject', '{"name": p1}', bearer(ADMIN_KEY));
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ message: expect.stringContaining('not valid JSON') });
  });

  it("answers governance's NOT_FOUND and ALREADY_EXISTS with 404 and 409", async () => {
    const missing = await call(IdentityServiceDesc, 'GetProject', { projectId: 'no-such-project' }, { ...bearer(ADMIN_KEY), 'x-request-id': 'req-404' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 5, status: 'NOT_FOUND', request_id: 'req-404' });

    expect((await call(IdentityServiceDesc, 'CreateProject', { name: 'twice' }, bearer(ADMIN_KEY))).status).toBe(200);
    const again = await call(IdentityServiceDesc, 'CreateProject', { name: 'twice' }, bearer(ADMIN_KEY));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ status: 'ALREADY_EXISTS' });
  });

  it("carries governance's error details in the body: its domain, a stable reason, the wrong fields", async () => {
    expect(await (await call(IdentityServiceDesc, 'ListProjects', {})).json()).toMatchObject({ reason: 'CREDENTIALS_MISSING', domain: 'governance.trellis', field_violations: [] });
    const missing = await call(IdentityServiceDesc, 'GetProject', { projectId: 'no-such-project' }, bearer(ADMIN_KEY));
    expect(await missing.json()).toMatchObject({ status: 'NOT_FOUND', reason: expect.stringMatching(/NOT_FOUND$/), domain: 'governance.trellis' });
    const tooLong = await call(IdentityServiceDesc, 'CreateProject', { name: 'n'.repeat(64) }, bearer(ADMIN_KEY));
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({
      status: 'INVALID_ARGUMENT',
      domain: 'governance.trellis',
      field_violations: [{ field: 'name', description: 'must be at most 63 characters', reason: 'STRING_MAX_LEN' }],
    });
  });

  it('answers 404 for an unknown route', async () => {
    const response = await fetch(`${gateway.address}/v1/trellis.governance.v1.IdentityService/DropEverything`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 'NOT_FOUND', message: expect.stringContaining('no route') });
  });

  it('streams a server-streaming method (the audit export) as NDJSON', async () => {
    await call(IdentityServiceDesc, 'CreateProject', { name: 'audited' }, bearer(ADMIN_KEY));
    // Governance's own audit events reach its chain through the outbox, a moment after the call.
    await eventually(async () => {
      const response = await call(AuditServiceDesc, 'ExportAuditRecords', {}, bearer(ADMIN_KEY));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-ndjson');
      const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as { line: string });
      const records = lines.map((message) => JSON.parse(message.line) as { method?: string });
      expect(records.some((record) => JSON.stringify(record).includes('CreateProject'))).toBe(true);
    });
  });

  it('exchanges an API key once for many requests, concurrent ones included', async () => {
    const created = await call(TokenServiceDesc, 'CreateApiKey', { name: 'cache-test' }, bearer(ADMIN_KEY));
    const { secret } = (await created.json()) as { secret: string };
    const before = await exchanges();
    const statuses = await Promise.all(Array.from({ length: 5 }, async () => (await call(IdentityServiceDesc, 'ListProjects', {}, bearer(secret))).status));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await call(IdentityServiceDesc, 'ListProjects', {}, bearer(secret))).status).toBe(200);
    expect((await exchanges()) - before).toBe(1);
  });

  it('publishes an OpenAPI document with a path for every exposed method', async () => {
    const response = await fetch(`${gateway.address}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    for (const service of Object.values(EXPOSED_SERVICES).flat()) {
      for (const method of service.methods) expect(document.paths).toHaveProperty([`/v1/${service.typeName}/${method.name}`, 'post']);
    }
  });

  it('runs as a distributed process that hosts only the gateway, with no database or key set (NATS brings it revocations)', async () => {
    const saved = { ...process.env };
    const nats = testNatsConfig();
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      ...nats.env,
      TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: governance.grpcAddress,
    });
    const printed: string[] = [];
    try {
      const running = await runProcess({ mode: 'distributed', services: [], edges: [gatewayEdge], print: (line) => printed.push(line) });
      try {
        const [edge] = running.edges;
        expect(printed).toContain(`  ${'gateway'.padEnd(12)} ${edge.address}`);
        const response = await fetch(`${edge.address}/v1/${IdentityServiceDesc.typeName}/ListProjects`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json', ...bearer(ADMIN_KEY) },
        });
        expect(response.status).toBe(200);
      } finally {
        await running.stop();
      }
    } finally {
      process.env = saved;
      await nats.cleanup();
    }
  });
});
