import 'reflect-metadata';
import { create, ScalarType, toBinary, type DescField, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createGrpcClient, maxRequestBytesOf, runProcess, type RunningProcess } from '@trellis/platform';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from './services';

/** Longer than any string limit but the dataset schema's and profile's, far shorter than a request may be. */
const OVERSIZED = 'x'.repeat(100_000);
/**
 * The deadline the health check must meet while an oversized request is being refused: long enough
 * for a connection and an answer on a busy 2-core machine (1 s was missed once in a clean-clone run
 * beside another, name resolution and pick alone taking 0.7 s), short enough to show a service
 * that stops answering while it refuses.
 */
const HEALTH_DEADLINE_MS = 5000;
/** Room for a service's every method on a busy machine: a 4 MiB request takes up to a second here. */
const CALLS_TIMEOUT_MS = 180_000;

/** A request of `message` with every string it can carry set to `text`: one entry per list and map, one member per oneof. */
function filled(message: DescMessage, text: string): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of message.fields) {
    if (field.oneof && field.oneof.fields[0] !== field) continue;
    const value = filledValue(field, text);
    if (value === undefined) continue;
    if (field.oneof) init[field.oneof.localName] = { case: field.localName, value };
    else init[field.localName] = value;
  }
  return init;
}

function filledValue(field: DescField, text: string): unknown {
  const nested = (message: DescMessage) => (message.typeName.startsWith('google.protobuf.') ? undefined : filled(message, text));
  switch (field.fieldKind) {
    case 'scalar':
      return field.scalar === ScalarType.STRING ? text : undefined;
    case 'message':
      return nested(field.message);
    case 'list':
      if (field.listKind === 'scalar') return field.scalar === ScalarType.STRING ? [text] : undefined;
      return field.listKind === 'message' && nested(field.message) ? [nested(field.message)] : undefined;
    case 'map':
      return field.mapKey === ScalarType.STRING && field.mapKind === 'scalar' && field.scalar === ScalarType.STRING ? { [text]: text } : undefined;
    default:
      return undefined;
  }
}

/** Whether a request of `message` can carry a string at all. */
const carriesStrings = (message: DescMessage) => Object.keys(filled(message, 'x')).length > 0;

/** Sends `bytes` as the (only) request message of `method` and resolves with the status it ends with. */
function callRaw(client: Client, method: DescMethod, bytes: Buffer, token: string): Promise<{ code: status; details: string }> {
  const path = `/${method.parent.typeName}/${method.name}`;
  const same = (value: Buffer) => value;
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + 60_000 };
  return new Promise((resolve) => {
    const done = (error: ServiceError | null) => resolve(error ? { code: error.code, details: error.details } : { code: status.OK, details: '' });
    if (method.methodKind === 'unary') {
      client.makeUnaryRequest(path, same, same, bytes, metadata, options, done);
    } else if (method.methodKind === 'server_streaming') {
      const stream = client.makeServerStreamRequest(path, same, same, bytes, metadata, options);
      stream.on('data', () => undefined);
      stream.on('error', done);
      stream.on('end', () => done(null));
    } else {
      const stream = client.makeClientStreamRequest(path, same, same, metadata, options, done);
      stream.write(bytes);
      stream.end();
    }
  });
}

/**
 * Asks `address` for its health again and again until `call` settles, each time on a connection of
 * its own with a deadline of HEALTH_DEADLINE_MS; resolves with every answer that was not SERVING in time.
 */
async function healthWhile<T>(address: string, call: Promise<T>): Promise<{ answer: T; unhealthy: string[] }> {
  const health = new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const SERVING = Buffer.from([0x08, 0x01]);
  const check = () =>
    new Promise<string | undefined>((resolve) => {
      const same = (value: Buffer) => value;
      const deadline = Date.now() + HEALTH_DEADLINE_MS;
      health.makeUnaryRequest('/grpc.health.v1.Health/Check', same, same, Buffer.alloc(0), new Metadata(), { deadline }, (error, answer) =>
        resolve(error ? `${status[error.code]}: ${error.details}` : answer?.equals(SERVING) ? undefined : 'not SERVING'),
      );
    });
  let settled = false;
  const answered = call.finally(() => (settled = true));
  const unhealthy: string[] = [];
  do {
    const problem = await check();
    if (problem) unhealthy.push(problem);
  } while (!settled);
  health.close();
  return { answer: await answered, unhealthy };
}

describe('oversized requests to every method of every service', () => {
  let dir: string;
  let running: RunningProcess;
  let apiKey: string;
  let token: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-oversized-'));
    Object.assign(process.env, { TRELLIS_DATA_DIR: join(dir, 'data'), TRELLIS_OPS_PORT: '0', TRELLIS_SERVING_HTTP_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((text: string) => printed.push(String(text)) > 0) as typeof process.stdout.write;
    try {
      running = await runProcess({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS, print: (line) => printed.push(line) });
    } finally {
      process.stdout.write = write;
    }
    apiKey = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/.exec(printed.join(''))![0];
    const governance = running.services.find((service) => service.name === 'governance')!;
    ({ token } = await createGrpcClient(TokenServiceDesc, governance.grpcAddress).exchangeApiKey({ apiKey }));
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  const methodsOf = (name: string) => SERVICES.find((service) => service.name === name)!.grpcServices.flatMap((service) => service.methods);
  const serviceNames = SERVICES.map((service) => service.name);

  it.each(serviceNames)('%s: refuses 100,000-character strings in every field with INVALID_ARGUMENT (RESOURCE_EXHAUSTED where the method takes less), healthy all along', async (name) => {
    const { grpcAddress } = running.services.find((service) => service.name === name)!;
    const client = new Client(grpcAddress, credentials.createInsecure());
    const answers: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const method of methodsOf(name).filter((candidate) => carriesStrings(candidate.input))) {
      const bytes = Buffer.from(toBinary(method.input, create(method.input, filled(method.input, OVERSIZED))));
      const { answer, unhealthy } = await healthWhile(grpcAddress, callRaw(client, method, bytes, token));
      answers[method.name] = { code: status[answer.code], echoes: answer.details.includes(OVERSIZED.slice(0, 200)), unhealthy };
      // A method that takes less than such a request (max_request_bytes) refuses it by size first.
      expected[method.name] = { code: bytes.length > maxRequestBytesOf(method) ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT', echoes: false, unhealthy: [] };
    }
    client.close();
    expect(Object.keys(answers).length).toBeGreaterThan(3);
    expect(answers).toEqual(expected);
  }, CALLS_TIMEOUT_MS);

  it.each(serviceNames)("%s: refuses a request a byte over its method's size with RESOURCE_EXHAUSTED, healthy all along", async (name) => {
    const { grpcAddress } = running.services.find((service) => service.name === name)!;
    const client = new Client(grpcAddress, credentials.createInsecure());
    const answers: Record<string, unknown> = {};
    for (const method of methodsOf(name)) {
      const { answer, unhealthy } = await healthWhile(grpcAddress, callRaw(client, method, Buffer.alloc(maxRequestBytesOf(method) + 1, 'x'), token));
      answers[method.name] = { code: status[answer.code], unhealthy };
    }
    client.close();
    expect(answers).toEqual(Object.fromEntries(Object.keys(answers).map((method) => [method, { code: 'RESOURCE_EXHAUSTED', unhealthy: [] }])));
  }, CALLS_TIMEOUT_MS);

  it("answers a 100,000-character project id through the gateway with 400, and the gateway's channel to governance keeps working", async () => {
    const gateway = running.edges.find((edge) => edge.name === 'gateway')!;
    const post = (method: string, body: unknown) =>
      fetch(`${gateway.address}/v1/${IdentityServiceDesc.typeName}/${method}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      });
    const refused = await post('GetProject', { projectId: OVERSIZED });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('project_id: must be at most 64 characters');
    const listed = await post('ListProjects', {});
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({ projects: [{ name: 'default' }] });
  });
});
