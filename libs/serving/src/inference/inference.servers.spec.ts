import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, Server, ServerCredentials, status, type MethodDefinition, type ServiceError, type UntypedHandleCall } from '@grpc/grpc-js';
import { NotFoundError, packageDefinitionFor, RefusedRequest, toGrpcError } from '@trellis/platform';
import type { LoadedModel, TensorDatatype } from '@trellis/plugin-sdk';
import { LINEAR_JSON_FORMAT, MemoryModelRuntime } from '@trellis/plugin-sdk/testing';
import { GRPCInferenceServiceDesc, type ModelInferRequest, type ModelInferResponse } from '@trellis/proto';
import { InferenceGrpc } from './inference.grpc';
import { inferenceHttpHandler } from './inference.http';
import { ModelRunError } from './model-run.error';
import type { InferenceServerInfo, InferenceTarget, InferenceTargets, TargetRequest } from './inference-targets';
import { DATATYPES } from './tensor-datatypes';
import { SAMPLES } from './tensor-samples.fixture';

const INFO: InferenceServerInfo = { name: 'trellis', version: '0.1.0', extensions: [] };
const ALL = Object.keys(SAMPLES) as TensorDatatype[];
const TYPED = ALL.filter((datatype) => datatype !== 'FP16');

/** What the `failing` model's run throws, as the endpoint router words a runtime's failure. */
const RUN_FAILURE = 'revision 2 (r2) of model failing failed on this request: index 3 is out of bounds';

/** A model that returns its input `x` as `y`, and its element count as `n`. */
function echoModel(datatype: TensorDatatype): LoadedModel {
  return {
    describe: () => ({ inputs: [{ name: 'x', datatype, shape: [-1] }], outputs: [{ name: 'y', datatype, shape: [-1] }, { name: 'n', datatype: 'INT64', shape: [1] }] }),
    infer: async ([x]) => [{ ...x, name: 'y' }, { name: 'n', datatype: 'INT64', shape: [1], data: new BigInt64Array([BigInt(x.data.length)]) }],
    unload: async () => undefined,
  };
}

function targetOf(name: string, model: LoadedModel, revision?: string): InferenceTarget {
  return { name, version: '1', versions: ['1'], platform: 'test', revision, signature: model.describe(), isReady: () => true, infer: (inputs) => model.infer(inputs) };
}

/** The spec's control plane: models by name, and every request it resolved. */
class SpecTargets implements InferenceTargets {
  readonly resolved: TargetRequest[] = [];
  readonly models = new Map<string, LoadedModel>();

  resolve(request: TargetRequest): InferenceTarget {
    this.resolved.push(request);
    const model = this.models.get(request.model);
    if (!model || (request.version !== undefined && request.version !== '1')) throw new NotFoundError(`model ${JSON.stringify(request.model)} is not served`);
    return targetOf(request.model, model, request.revision);
  }

  isReady(): boolean {
    return true;
  }
}

const targets = new SpecTargets();
const definitions = packageDefinitionFor([GRPCInferenceServiceDesc])['inference.GRPCInferenceService'] as unknown as Record<string, MethodDefinition<object, object>>;
let dir: string;
let grpcServer: Server;
let client: Client;
let httpServer: HttpServer;
let http: string;

/** Serves InferenceGrpc on a grpc-js server: each method through the kit's decoder (limits) and error mapping. */
async function serveGrpc(): Promise<string> {
  const handlers = new InferenceGrpc(targets, INFO) as unknown as Record<string, (request: unknown, metadata: Metadata, call: unknown) => unknown>;
  grpcServer = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  for (const definition of Object.values(definitions)) {
    const key = definition.originalName!;
    const answer = (call: { request: unknown; metadata: Metadata }, callback: (error: unknown, value?: unknown) => void) => {
      const fail = (error: unknown) => callback(toGrpcError(error, { requestId: 'spec', domain: 'serving.trellis' }, (unexpected) => console.error(unexpected)));
      if (call.request instanceof RefusedRequest) return fail(call.request.reason);
      Promise.resolve()
        .then(() => handlers[key](call.request, call.metadata, call))
        .then((value) => callback(null, value), fail);
    };
    grpcServer.register(definition.path, answer as unknown as UntypedHandleCall, definition.responseSerialize, definition.requestDeserialize, 'unary');
  }
  const port = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return `127.0.0.1:${port}`;
}

/** Calls a method as a client with the generated types would; resolves to the answer and the response headers, or rejects with the error and them. */
function call<T = ModelInferResponse>(method: string, request: object, metadata = new Metadata()): Promise<{ response: T; headers: Metadata }> {
  const definition = definitions[method];
  return new Promise((resolve, reject) => {
    let headers = new Metadata();
    const unary = client.makeUnaryRequest(definition.path, definition.requestSerialize, definition.responseDeserialize, request, metadata, (error, response) =>
      error ? reject(Object.assign(error, { headers })) : resolve({ response: response as T, headers }),
    );
    unary.on('metadata', (received) => (headers = received));
  });
}

const grpcError = (promise: Promise<unknown>) => promise.then(() => ({ code: status.OK, details: '' }), (error: ServiceError) => ({ code: error.code, details: error.details }));

async function rest(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${http}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: response.headers };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oip-'));
  const modelPath = join(dir, 'model.json');
  await writeFile(modelPath, JSON.stringify({ input: 'features', output: 'scores', weights: [[1, 0, 2], [0, -1, 0.5]], bias: [0.5, 0] }));
  const scorer = await new MemoryModelRuntime().load(modelPath, LINEAR_JSON_FORMAT);
  targets.models.set('scorer', scorer);
  targets.models.set('failing', { describe: () => scorer.describe(), infer: () => Promise.reject(new ModelRunError(RUN_FAILURE, 'req-1', 'r2')), unload: async () => undefined });
  for (const datatype of ALL) targets.models.set(`echo-${datatype.toLowerCase()}`, echoModel(datatype));
  client = new Client(await serveGrpc(), credentials.createInsecure());
  httpServer = createServer(inferenceHttpHandler({ targets, info: INFO, maxBodyBytes: 64 * 1024 }));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  http = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  client?.close();
  await new Promise((resolve) => grpcServer?.tryShutdown(resolve));
  await new Promise((resolve) => httpServer?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Rows (1, 2, 3) and (0, 0, 0): scores (1 + 6 + 0.5, -2 + 1.5) and the bias (0.5, 0). */
const FEATURES = [1, 2, 3, 0, 0, 0];
const SCORES = [7.5, -0.5, 0.5, 0];
const scorerRequest = (input: Partial<ModelInferRequest['inputs'][number]> | object = {}, rest: object = {}) => ({
  modelName: 'scorer',
  id: 'req-1',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [2n, 3n], contents: { fp32Contents: FEATURES }, ...input }],
  ...rest,
});

describe('Open Inference Protocol over gRPC', () => {
  it('infers with the memory runtime from typed contents, answering typed contents with the id and version', async () => {
    const { response } = await call('ModelInfer', scorerRequest());
    expect({ model: response.modelName, version: response.modelVersion, id: response.id }).toEqual({ model: 'scorer', version: '1', id: 'req-1' });
    expect(response.outputs.map((output) => ({ name: output.name, datatype: output.datatype, shape: output.shape, data: output.contents?.fp32Contents }))).toEqual([
      { name: 'scores', datatype: 'FP32', shape: [2n, 2n], data: SCORES },
    ]);
    expect(response.rawOutputContents).toEqual([]);
  });

  it('infers from raw_input_contents and answers raw_output_contents', async () => {
    const raw = new Uint8Array(new Float32Array(FEATURES).buffer);
    const { response } = await call('ModelInfer', scorerRequest({ contents: undefined }, { rawInputContents: [raw] }));
    const [bytes] = response.rawOutputContents;
    expect(Array.from(new Float32Array(new Uint8Array(bytes).buffer))).toEqual(SCORES);
    expect(response.outputs[0].contents).toBeUndefined();
  });

  it.each(TYPED)('echoes %s as typed contents', async (datatype) => {
    const field = DATATYPES[datatype].contents!;
    const data = datatype === 'BYTES' ? SAMPLES.BYTES.data.map((text) => Buffer.from(text as string)) : SAMPLES[datatype].data;
    const { response } = await call('ModelInfer', { modelName: `echo-${datatype.toLowerCase()}`, inputs: [{ name: 'x', datatype, shape: [3n], contents: { [field]: data } }] });
    const [y, n] = response.outputs;
    expect({ name: y.name, datatype: y.datatype, shape: y.shape }).toEqual({ name: 'y', datatype, shape: [3n] });
    expect(Array.from(y.contents![field] as ArrayLike<unknown>, (value) => (value instanceof Uint8Array ? Buffer.from(value).toString() : value))).toEqual(SAMPLES[datatype].data);
    expect(n.contents?.int64Contents).toEqual([3n]);
  });

  it.each(ALL)('echoes %s as raw bytes', async (datatype) => {
    const raw = new Uint8Array(SAMPLES[datatype].raw);
    const { response } = await call('ModelInfer', { modelName: `echo-${datatype.toLowerCase()}`, inputs: [{ name: 'x', datatype, shape: [3n] }], rawInputContents: [raw] });
    expect(response.outputs.map((output) => [output.name, output.datatype])).toEqual([['y', datatype], ['n', 'INT64']]);
    expect(Array.from(response.rawOutputContents[0])).toEqual(SAMPLES[datatype].raw);
    expect(Array.from(response.rawOutputContents[1])).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('answers FP16 outputs raw even to a request with typed contents (FP16 has no typed field)', async () => {
    targets.models.set('fp16-out', {
      describe: () => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], outputs: [{ name: 'h', datatype: 'FP16', shape: [1] }] }),
      infer: async () => [{ name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) }],
      unload: async () => undefined,
    });
    const { response } = await call('ModelInfer', { modelName: 'fp16-out', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n], contents: { fp32Contents: [1] } }] });
    expect(Array.from(response.rawOutputContents[0])).toEqual([0, 0x3c]);
  });

  it('returns only the outputs asked for, in the order asked', async () => {
    const { response } = await call('ModelInfer', { modelName: 'echo-int32', inputs: [{ name: 'x', datatype: 'INT32', shape: [2n], contents: { intContents: [4, 5] } }], outputs: [{ name: 'n' }] });
    expect(response.outputs.map((output) => [output.name, output.contents?.int64Contents])).toEqual([['n', [2n]]]);
  });

  it.each([
    ['an unknown input', scorerRequest({ name: 'feats' }), 'input "feats" is not an input of the model; it takes "features"'],
    ['a wrong datatype', scorerRequest({ datatype: 'FP64', contents: { fp64Contents: FEATURES } }), 'input "features" is FP32, got FP64'],
    ['an unknown datatype', scorerRequest({ datatype: 'FLOAT' }), 'input "features" is FP32, got unknown datatype "FLOAT"'],
    ['a wrong shape', scorerRequest({ shape: [2n, 4n] }), 'input "features" has shape [-1, 3], got [2, 4]'],
    ['a wrong rank', scorerRequest({ shape: [6n] }), 'input "features" has shape [-1, 3], got [6]'],
    ['too few elements', scorerRequest({ contents: { fp32Contents: [1, 2, 3, 4, 5] } }), 'input "features" has shape [2, 3], 6 elements, but holds 5'],
    ['elements in the wrong field', scorerRequest({ contents: { intContents: FEATURES } }), 'input "features" is FP32: its elements go in fp32_contents, not int_contents'],
    ['a missing input', { modelName: 'scorer', inputs: [] }, 'the model needs input "features", missing from the request'],
    ['raw bytes short of the shape', scorerRequest({ contents: undefined }, { rawInputContents: [new Uint8Array(20)] }), 'input "features" has shape [2, 3] of FP32, 24 bytes, but its raw contents are 20 bytes'],
    ['raw bytes beside contents', scorerRequest({}, { rawInputContents: [new Uint8Array(24)] }), 'input "features" has contents but the request uses raw_input_contents: send every input one way'],
    ['an unknown output', scorerRequest({}, { outputs: [{ name: 'probabilities' }] }), 'output "probabilities" is not an output of the model; it has "scores"'],
  ])('refuses %s with INVALID_ARGUMENT naming it', async (_case, request, message) => {
    expect(await grpcError(call('ModelInfer', request))).toEqual({ code: status.INVALID_ARGUMENT, details: message });
  });

  it('echoes only a short prefix of a long input name', async () => {
    const { details } = await grpcError(call('ModelInfer', scorerRequest({ name: 'f'.repeat(250) })));
    expect(details).toBe(`input "${'f'.repeat(64)}..." is not an input of the model; it takes "features"`);
  });

  it('refuses fields over the contract\'s limits before any handler runs', async () => {
    expect(await grpcError(call('ModelInfer', { ...scorerRequest(), modelName: 'm'.repeat(300) }))).toEqual({ code: status.INVALID_ARGUMENT, details: 'model_name: must be at most 256 characters' });
  });

  it('answers NOT_FOUND for a model or version nothing serves', async () => {
    expect(await grpcError(call('ModelInfer', { ...scorerRequest(), modelName: 'nope' }))).toEqual({ code: status.NOT_FOUND, details: 'model "nope" is not served' });
    expect((await grpcError(call('ModelMetadata', { name: 'scorer', version: '7' }))).code).toBe(status.NOT_FOUND);
  });

  it('answers health and metadata', async () => {
    expect((await call('ServerLive', {})).response).toMatchObject({ live: true });
    expect((await call('ServerReady', {})).response).toMatchObject({ ready: true });
    expect((await call('ServerMetadata', {})).response).toMatchObject({ name: 'trellis', version: '0.1.0', extensions: [] });
    expect((await call('ModelReady', { name: 'scorer', version: '1' })).response).toMatchObject({ ready: true });
    const { response } = await call<Record<string, unknown>>('ModelMetadata', { name: 'scorer' });
    expect(response).toMatchObject({
      name: 'scorer',
      versions: ['1'],
      platform: 'test',
      inputs: [expect.objectContaining({ name: 'features', datatype: 'FP32', shape: [-1n, 3n] })],
      outputs: [expect.objectContaining({ name: 'scores', datatype: 'FP32', shape: [-1n, 2n] })],
    });
  });

  it('passes a revision pinned with trellis-revision to the targets and names it in the response headers', async () => {
    const metadata = new Metadata();
    metadata.set('trellis-revision', 'r2');
    const { headers } = await call('ModelInfer', scorerRequest(), metadata);
    expect(targets.resolved.at(-1)).toEqual({ model: 'scorer', version: undefined, revision: 'r2' });
    expect(headers.get('trellis-revision')).toEqual(['r2']);
  });

  it('answers INTERNAL with the message of a model that failed on the request, naming its revision and request id in the response headers', async () => {
    const failed = await call('ModelInfer', scorerRequest({}, { modelName: 'failing' })).then(() => undefined, (error: ServiceError & { headers: Metadata }) => error);
    expect({ code: failed?.code, details: failed?.details, revision: failed?.headers.get('trellis-revision'), requestId: failed?.headers.get('trellis-request-id') }).toEqual({
      code: status.INTERNAL,
      details: RUN_FAILURE,
      revision: ['r2'],
      requestId: ['req-1'],
    });
  });
});

describe('Open Inference Protocol over REST', () => {
  it('infers with the memory runtime from nested JSON data', async () => {
    const { status: code, json } = await rest('/v2/models/scorer/infer', { body: { id: 'r-1', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], [0, 0, 0]] }] } });
    expect(code).toBe(200);
    expect(json).toEqual({ model_name: 'scorer', model_version: '1', id: 'r-1', outputs: [{ name: 'scores', datatype: 'FP32', shape: [2, 2], data: SCORES }] });
  });

  it.each(TYPED)('echoes %s as JSON', async (datatype) => {
    const data = SAMPLES[datatype].data.map((value) => (typeof value === 'bigint' ? value.toString() : value));
    const { status: code, text } = await rest(`/v2/models/echo-${datatype.toLowerCase()}/versions/1/infer`, { body: { inputs: [{ name: 'x', datatype, shape: [3], data }] } });
    expect(code).toBe(200);
    const expected = SAMPLES[datatype].data.map((value) => (typeof value === 'bigint' ? value.toString() : JSON.stringify(value))).join(',');
    expect(text).toContain(`{"name":"y","datatype":"${datatype}","shape":[3],"data":[${expected}]}`);
    expect(text).toContain('{"name":"n","datatype":"INT64","shape":[1],"data":[3]}');
  });

  it('returns only the outputs asked for', async () => {
    const { json } = await rest('/v2/models/echo-fp64/infer', { body: { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [2] }], outputs: [{ name: 'n' }] } });
    expect((json!.outputs as { name: string }[]).map((output) => output.name)).toEqual(['n']);
  });

  it.each([
    ['an unknown input', { inputs: [{ name: 'feats', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 'input "feats" is not an input of the model; it takes "features"'],
    ['a wrong datatype', { inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }] }, 'input "features" is FP32, got INT32'],
    ['a wrong shape', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }, 'input "features" has shape [-1, 3], got [1, 2]'],
    ['too few elements', { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3] }] }, 'input "features" has shape [2, 3], 6 elements, but holds 3'],
    ['a string for a number', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, '2', 3] }] }, 'input "features" is FP32: element 1 must be a number'],
    ['an unknown output', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }], outputs: [{ name: 'p' }] }, 'output "p" is not an output of the model; it has "scores"'],
    ['a body without inputs', { id: 'x' }, 'inputs: must be an array'],
    ['a shape that is not whole numbers', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1.5, 3], data: [] }] }, 'inputs[0].shape[0]: must be a whole number'],
    ['a body that is not JSON', '{"inputs": [', 'the request body is not JSON'],
  ])('answers 400 for %s, naming it', async (_case, body, message) => {
    expect(await rest('/v2/models/scorer/infer', { body })).toMatchObject({ status: 400, json: { error: message } });
  });

  it('answers 413 for a body over the limit, unread', async () => {
    const big = { inputs: [{ name: 'features', datatype: 'FP32', shape: [10000, 3], data: new Array(30000).fill(1.25) }] };
    const { status: code, json } = await rest('/v2/models/scorer/infer', { body: big });
    expect(code).toBe(413);
    expect(json!.error).toMatch(/^the request body is \d+ bytes; this server takes at most 65536$/);
  });

  it('answers health, readiness and metadata', async () => {
    expect(await rest('/v2/health/live')).toMatchObject({ status: 200, text: '' });
    expect(await rest('/v2/health/ready')).toMatchObject({ status: 200, text: '' });
    expect((await rest('/v2')).json).toEqual({ name: 'trellis', version: '0.1.0', extensions: [] });
    expect((await rest('/v2/models/scorer/ready')).status).toBe(200);
    expect((await rest('/v2/models/scorer/versions/1')).json).toEqual({
      name: 'scorer',
      versions: ['1'],
      platform: 'test',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 2] }],
    });
  });

  it('answers 404 for a model nothing serves or a path it does not know, 405 for a wrong method', async () => {
    expect(await rest('/v2/models/nope/ready')).toMatchObject({ status: 404, json: { error: 'model "nope" is not served' } });
    expect((await rest('/v2/models/scorer/explain')).status).toBe(404);
    const wrong = await rest('/v2/models/scorer/infer');
    expect({ status: wrong.status, allow: wrong.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' });
  });

  it('passes a revision pinned with trellis-revision and names it in the response', async () => {
    const { headers } = await rest('/v2/models/scorer/infer', { body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, headers: { 'trellis-revision': 'r3' } });
    expect(targets.resolved.at(-1)).toEqual({ model: 'scorer', version: undefined, revision: 'r3' });
    expect(headers.get('trellis-revision')).toBe('r3');
  });

  it('answers 500 with the message of a model that failed on the request, naming its revision and request id in the headers', async () => {
    const failed = await rest('/v2/models/failing/infer', { body: { id: 'req-1', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] } });
    expect({ status: failed.status, json: failed.json, revision: failed.headers.get('trellis-revision'), requestId: failed.headers.get('trellis-request-id') }).toEqual({
      status: 500,
      json: { error: RUN_FAILURE },
      revision: 'r2',
      requestId: 'req-1',
    });
  });
});

describe('a stock OIP client', () => {
  /** Protobuf wire encoding written by hand, per KServe's grpc_predict_v2.proto field numbers. */
  const varint = (value: number): number[] => (value < 0x80 ? [value] : [(value & 0x7f) | 0x80, ...varint(value >>> 7)]);
  const bytesField = (field: number, bytes: number[]) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
  const text = (field: number, value: string) => bytesField(field, [...Buffer.from(value)]);
  const packedVarints = (field: number, values: number[]) => bytesField(field, values.flatMap(varint));
  const packedFloats = (field: number, values: number[]) => bytesField(field, [...new Uint8Array(new Float32Array(values).buffer)]);

  // ModelInferRequest: model_name = 1, id = 3, inputs = 5 (InferInputTensor: name = 1, datatype = 2,
  // shape = 3 packed int64, contents = 5 (InferTensorContents: fp32_contents = 6 packed float)),
  // outputs = 6 (InferRequestedOutputTensor: name = 1).
  const input = [...text(1, 'features'), ...text(2, 'FP32'), ...packedVarints(3, [2, 3]), ...bytesField(5, packedFloats(6, FEATURES))];
  const wire = Buffer.from([...text(1, 'scorer'), ...text(3, 'stock-1'), ...bytesField(5, input), ...bytesField(6, text(1, 'scores'))]);

  it('sends a ModelInferRequest that the generated types decode field for field', () => {
    const decoded = definitions.ModelInfer.requestDeserialize(wire) as ModelInferRequest;
    expect(decoded).toMatchObject({
      modelName: 'scorer',
      id: 'stock-1',
      inputs: [expect.objectContaining({ name: 'features', datatype: 'FP32', shape: [2n, 3n], contents: expect.objectContaining({ fp32Contents: FEATURES }) })],
      outputs: [expect.objectContaining({ name: 'scores' })],
    });
  });

  it('gets its answer from the server for those bytes, at /inference.GRPCInferenceService/ModelInfer', async () => {
    const identity = (bytes: Buffer) => bytes;
    const answer = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', identity, identity, wire, new Metadata(), (error, value) => (error ? reject(error) : resolve(value!))),
    );
    // ModelInferResponse: model_name = 1, model_version = 2, id = 3, outputs = 5.
    const head = Buffer.from([...text(1, 'scorer'), ...text(2, '1'), ...text(3, 'stock-1')]);
    expect(answer.subarray(0, head.length)).toEqual(head);
    const response = definitions.ModelInfer.responseDeserialize(answer) as ModelInferResponse;
    expect(response.outputs[0].contents?.fp32Contents).toEqual(SCORES);
  });
});
