import 'reflect-metadata';
import { join } from 'node:path';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { GrpcCallError, RunningService } from '@trellis/platform';
import type { TestPlatform } from '@trellis/platform/testing';
import {
  ArtifactServiceDesc,
  EndpointServiceDesc,
  ExperimentServiceDesc,
  GRPCInferenceServiceDesc,
  ModelInferRequestSchema,
  ModelInferResponseSchema,
  RegistryServiceDesc,
  RevisionState,
  RunServiceDesc,
  type Endpoint,
  type ModelInferRequest,
  type ModelInferResponse,
} from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { brokenChurnModel, CHURN_FEATURES } from '../test/churn-models';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;
const X = [0.5, -1, 2, 4, 1.5, 0, -3, 0.25];
const times = (factor: number) => X.map((value) => value * factor);

describe('inference through endpoints: a registered ONNX model over OIP gRPC and REST, with its traffic split (SQLite)', () => {
  let stack: OnnxServing;
  let platform: TestPlatform;
  let serving: RunningService;
  let rest: string;
  let token: string;
  let endpoints: Awaited<ReturnType<typeof platform.client<(typeof EndpointServiceDesc)['method']>>>;
  let inference: Awaited<ReturnType<typeof platform.client<(typeof GRPCInferenceServiceDesc)['method']>>>;
  let endpoint: Endpoint;
  const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };

  const infer = async (headers: Record<string, string> = {}, as = token) => {
    const response = await fetch(`${rest}/v2/models/scale/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ id: 'r1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: X }] }),
    });
    return { status: response.status, revision: response.headers.get('trellis-revision'), body: (await response.json()) as { outputs?: Array<{ data: number[] }>; error?: string } };
  };
  const answeredBy = async (requests: number) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < requests; i++) {
      const { revision } = await infer();
      const number = String(endpoint.revisions.find((candidate) => candidate.id === revision)?.number ?? revision);
      counts[number] = (counts[number] ?? 0) + 1;
    }
    return counts;
  };
  const revisionNumbered = async (number: number) => {
    const { revisions } = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!;
    return revisions.find((revision) => revision.number === number)!;
  };

  beforeAll(async () => {
    stack = await startOnnxServing('inference');
    ({ platform, serving, rest } = stack);
    token = await platform.keys.mint(erin);
    endpoints = await platform.client(EndpointServiceDesc, serving.grpcAddress, erin);
    inference = await platform.client(GRPCInferenceServiceDesc, serving.grpcAddress, erin);
    await stack.registerVersions(erin, await stack.createRun(erin, 'scale'), 'scale', [
      ['v1', await scaleModel(2, join(stack.dir, 'v1.onnx'))],
      ['v2', await scaleModel(3, join(stack.dir, 'v2.onnx'))],
      ['v3', await scaleModel(5, join(stack.dir, 'v3.onnx'))],
      ['v4', Buffer.from('not an onnx model')],
    ]);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('deploys a registered version in one call; its revision goes from PENDING to READY', async () => {
    endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name: 'scale', model: 'models:/scale/1', batching: { maxBatchSize: 8, maxQueueDelayUs: 500n } })).endpoint!;
    expect(endpoint.revisions.map((revision) => revision.state)).toEqual([RevisionState.PENDING]);
    await eventually(async () => expect((await revisionNumbered(1)).state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
  });

  it('answers a stock OIP gRPC request with raw_input_contents, with the values the model computes', async () => {
    const response = await inference.modelInfer({
      modelName: 'scale',
      id: 'grpc-1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2n, 4n] }],
      rawInputContents: [Buffer.from(new Float32Array(X).buffer)],
    });
    expect(response).toMatchObject({ modelName: 'scale', modelVersion: '1', id: 'grpc-1', outputs: [{ name: 'y', datatype: 'FP32', shape: [2n, 4n] }] });
    const raw = response.rawOutputContents[0];
    expect([...new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))]).toEqual(times(2));
    const metadata = await inference.modelMetadata({ name: 'scale' });
    expect(metadata).toMatchObject({ name: 'scale', versions: ['1'], platform: 'onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1n, 4n] }] });
  });

  it('answers over REST on its own port, naming the revision that answered', async () => {
    const answer = await infer();
    expect(answer).toMatchObject({ status: 200, revision: endpoint.revisions[0].id, body: { model_name: 'scale', model_version: '1', id: 'r1', outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 4], data: times(2) }] } });
  });

  it("hides an endpoint from a caller who may not read its project, over both protocols", async () => {
    const outsider = { sub: 'oscar', bindings: [{ project: 'p2', role: 'owner' as const }] };
    expect((await infer({}, await platform.keys.mint(outsider))).status).toBe(404);
    const client = await platform.client(GRPCInferenceServiceDesc, serving.grpcAddress, outsider);
    expect((await failure(client.modelInfer({ modelName: 'scale', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }] })))?.code).toBe(status.NOT_FOUND);
    const anonymous = await fetch(`${rest}/v2/models/scale`);
    expect(anonymous.status).toBe(401);
  });

  it('splits traffic by weight: a 10% canary answers 1 request in 10, pinning answers by revision, rollback moves the answers back', async () => {
    const { revision } = await endpoints.deployRevision({ endpointId: endpoint.id, model: 'models:/scale/2', trafficPercent: 10 });
    endpoint = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!;
    await eventually(async () => expect((await revisionNumbered(2)).state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
    expect(await answeredBy(20)).toEqual({ '1': 18, '2': 2 });

    const pinned = await infer({ 'trellis-revision': revision!.id });
    expect(pinned).toMatchObject({ status: 200, revision: revision!.id, body: { model_version: '2', outputs: [{ data: times(3) }] } });
    expect((await infer({ 'trellis-revision': '1' })).revision).toBe(endpoint.revisions.find((candidate) => candidate.number === 1)!.id);

    await endpoints.setTraffic({ endpointId: endpoint.id, traffic: { targets: [{ revisionId: revision!.id, percent: 100 }] } });
    expect(await answeredBy(5)).toEqual({ '2': 5 });
    // A revision out of the split still answers when pinned.
    expect(await infer({ 'trellis-revision': '1' })).toMatchObject({ status: 200, revision: endpoint.revisions.find((candidate) => candidate.number === 1)!.id, body: { model_version: '1' } });
    await endpoints.rollbackEndpoint({ endpointId: endpoint.id });
    expect(await answeredBy(10)).toEqual({ '1': 9, '2': 1 });
  });

  it("sends the shadow a copy of each request and never returns its answer", async () => {
    const shadow = (await endpoints.deployRevision({ endpointId: endpoint.id, model: 'models:/scale/3', shadow: true })).revision!;
    await eventually(async () => expect((await revisionNumbered(3)).state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
    const shadowCount = async () => (await platform.runtime.metrics.registry.getSingleMetric('trellis_serving_shadow_requests_total')?.get())?.values.find((value) => value.labels.revision === shadow.id && value.labels.outcome === 'ok')?.value ?? 0;
    const before = await shadowCount();
    for (let i = 0; i < 10; i++) {
      const answer = await infer();
      expect(answer.revision).not.toBe(shadow.id);
      expect(answer.body.outputs![0].data).not.toEqual(times(5));
    }
    await eventually(async () => expect(await shadowCount()).toBe(before + 10));
  });

  it('marks a revision whose artifact is not a model FAILED with the reason, and it takes no traffic', async () => {
    const bad = (await endpoints.deployRevision({ endpointId: endpoint.id, model: 'models:/scale/4', trafficPercent: 10 })).revision!;
    const failed = await eventually(async () => {
      const found = await revisionNumbered(4);
      expect(found.state).toBe(RevisionState.FAILED);
      return found;
    }, { timeoutMs: 30_000 });
    expect(failed.stateMessage).toMatch(/^loading onnx model scale version 4 into runtime instance onnx failed: /);
    endpoint = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!;
    expect(endpoint.traffic!.targets.map(({ percent }) => percent)).toEqual([81, 9, 10]);
    // Its 10% goes to the others, in their proportions.
    expect(await answeredBy(90)).toEqual({ '1': 81, '2': 9 });
    const refused = await failure(endpoints.setTraffic({ endpointId: endpoint.id, traffic: { targets: [{ revisionId: bad.id, percent: 100 }] } }));
    expect({ code: refused?.code, reason: refused?.reason }).toEqual({ code: status.FAILED_PRECONDITION, reason: 'REVISION_FAILED' });
    const pinned = await infer({ 'trellis-revision': bad.id });
    expect(pinned.status).toBe(400);
    expect(pinned.body.error).toMatch(/^revision 4 \(.*\) of endpoint scale failed to load: loading onnx model/);
  });

  it('serves the endpoint of the project the trellis-project header names when several projects a caller may read have one of that name, over both protocols', async () => {
    const both = { sub: 'pat', bindings: [{ project: 'p1', role: 'editor' as const }, { project: 'p2', role: 'editor' as const }] };
    const p2Endpoint = await deployInP2(both, 'scale', await scaleModel(5, join(stack.dir, 'p2.onnx')));
    const patToken = await platform.keys.mint(both);

    const ambiguous = await infer({}, patToken);
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error).toBe('projects p1, p2 each have an endpoint named "scale"; name one with the trellis-project header (gRPC metadata or HTTP header), or use a token scoped to one of them');
    expect(await infer({ 'trellis-project': 'p2' }, patToken)).toMatchObject({ status: 200, revision: p2Endpoint.revisions[0].id, body: { outputs: [{ data: times(5) }] } });
    const inP1 = await infer({ 'trellis-project': 'p1' }, patToken);
    expect(endpoint.revisions.map((revision) => revision.id)).toContain(inP1.revision);
    expect(await infer({ 'trellis-project': 'p3' }, patToken)).toMatchObject({ status: 404, body: { error: 'model "scale" not found: no endpoint of that name in project "p3", or you may not read it' } });

    const overGrpc = await grpcInfer(patToken, {});
    expect({ code: overGrpc.error?.code, details: overGrpc.error?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: ambiguous.body.error });
    const fromP2 = await grpcInfer(patToken, { 'trellis-project': 'p2' });
    expect({ revision: fromP2.revision, data: fromP2.response && [...new Float32Array(new Uint8Array(fromP2.response.rawOutputContents[0]).buffer)] }).toEqual({ revision: p2Endpoint.revisions[0].id, data: times(5) });
    // A caller who may read one project still needs no header.
    expect((await infer({}, token)).status).toBe(200);
  });

  it('answers a request its model fails on with 500 over REST and INTERNAL over gRPC, naming the revision with an excerpt of the runtime error, and counts it as an error', async () => {
    await stack.registerVersions(erin, await stack.createRun(erin, 'broken'), 'broken', [['broken', await brokenChurnModel(join(stack.dir, 'broken.onnx'))]]);
    const { id } = (await endpoints.createEndpoint({ projectId: 'p1', name: 'broken', model: 'models:/broken/1' })).endpoint!;
    const revision = await eventually(async () => {
      const found = (await endpoints.getEndpoint({ endpointId: id })).endpoint!.revisions[0];
      expect(found.state).toBe(RevisionState.READY);
      return found;
    }, { timeoutMs: 30_000 });
    const row = Array.from({ length: CHURN_FEATURES }, (_, index) => index / 10);
    const message = new RegExp(`^revision 1 \\(${revision.id}\\) of model broken failed on this request: Non-zero status code returned while running Gather node\\..{1,60}\\.\\.\\.$`);

    const response = await fetch(`${rest}/v2/models/broken/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'fails-rest', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, CHURN_FEATURES], data: row }] }),
    });
    const { error } = (await response.json()) as { error: string };
    expect({ status: response.status, revision: response.headers.get('trellis-revision'), requestId: response.headers.get('trellis-request-id') }).toEqual({ status: 500, revision: revision.id, requestId: 'fails-rest' });
    expect(error).toMatch(message);

    const overGrpc = await grpcInfer(token, {}, { modelName: 'broken', id: 'fails-grpc', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, BigInt(CHURN_FEATURES)] }], rawInputContents: [new Uint8Array(new Float32Array(row).buffer)] });
    expect({ code: overGrpc.error?.code, revision: overGrpc.revision, requestId: overGrpc.requestId }).toEqual({ code: status.INTERNAL, revision: revision.id, requestId: 'fails-grpc' });
    expect(overGrpc.error?.details).toMatch(message);
    const failed = await failure(inference.modelInfer({ modelName: 'broken', id: 'fails-kit', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, BigInt(CHURN_FEATURES)], contents: { fp32Contents: row } }] }));
    expect({ code: failed?.code, reason: failed?.reason, facts: failed?.statusDetails?.metadata }).toEqual({ code: status.INTERNAL, reason: 'INTERNAL', facts: { requestId: 'fails-kit', revision: revision.id } });

    const errors = async () => (await platform.runtime.metrics.registry.getSingleMetric('trellis_serving_requests_total')?.get())?.values.find((value) => value.labels.revision === revision.id && value.labels.outcome === 'error')?.value;
    await eventually(async () => expect(await errors()).toBe(3));
  }, 60_000);

  /** Registers `onnx` as version 1 of model `name` in project p2 and deploys it there as endpoint `name`; resolves once its revision is READY. */
  async function deployInP2(as: { sub: string; bindings: { project: string; role: 'editor' }[] }, name: string, onnx: Buffer): Promise<Endpoint> {
    const { tracking, registry } = stack;
    const experimentId = (await (await platform.client(ExperimentServiceDesc, tracking.grpcAddress, as)).createExperiment({ projectId: 'p2', name })).experiment!.id;
    const runId = (await (await platform.client(RunServiceDesc, tracking.grpcAddress, as)).createRun({ experimentId, runName: 'train' })).run!.info!.id;
    await (await platform.client(ArtifactServiceDesc, tracking.grpcAddress, as)).uploadArtifact([{ part: { case: 'header', value: { runId, path: 'model/model.onnx' } } }, { part: { case: 'chunk', value: onnx } }]);
    const models = await platform.client(RegistryServiceDesc, registry.grpcAddress, as);
    await models.createModel({ projectId: 'p2', name });
    const { version } = (await models.createVersion({ projectId: 'p2', modelName: name, source: `runs:/${runId}/model`, runId, format: 'onnx' })).version!;
    await models.waitVersion({ projectId: 'p2', modelName: name, version }, { timeoutMs: 30_000 });
    const client = await platform.client(EndpointServiceDesc, serving.grpcAddress, as);
    const { id } = (await client.createEndpoint({ projectId: 'p2', name, model: `models:/${name}/${version}` })).endpoint!;
    return eventually(async () => {
      const found = (await client.getEndpoint({ endpointId: id })).endpoint!;
      expect(found.revisions[0].state).toBe(RevisionState.READY);
      return found;
    }, { timeoutMs: 30_000 });
  }

  /**
   * ModelInfer as a stock grpc-js client sends it (`fields`, scale's two rows by default), with
   * `headers` as metadata; resolves with the answer or the error, and the revision and request id
   * its initial metadata named.
   */
  function grpcInfer(
    as: string,
    headers: Record<string, string>,
    fields: MessageInitShape<typeof ModelInferRequestSchema> = { modelName: 'scale', inputs: [{ name: 'x', datatype: 'FP32', shape: [2n, 4n] }], rawInputContents: [new Uint8Array(new Float32Array(X).buffer)] },
  ): Promise<{ response?: ModelInferResponse; error?: ServiceError; revision?: string; requestId?: string }> {
    const client = new Client(serving.grpcAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${as}`);
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    const request = create(ModelInferRequestSchema, fields);
    return new Promise((resolve) => {
      let revision: string | undefined;
      let requestId: string | undefined;
      const call = client.makeUnaryRequest(
        '/inference.GRPCInferenceService/ModelInfer',
        (message: ModelInferRequest) => Buffer.from(toBinary(ModelInferRequestSchema, message)),
        (bytes: Buffer) => fromBinary(ModelInferResponseSchema, bytes),
        request,
        metadata,
        (error, response) => {
          client.close();
          resolve(error ? { error, revision, requestId } : { response, revision, requestId });
        },
      );
      call.on('metadata', (received: Metadata) => {
        revision = received.get('trellis-revision')[0] as string | undefined;
        requestId = received.get('trellis-request-id')[0] as string | undefined;
      });
    });
  }
});
