import 'reflect-metadata';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { GrpcCallError } from '@trellis/platform';
import type { TestPlatform } from '@trellis/platform/testing';
import { fromBinary } from '@bufbuild/protobuf';
import { EndpointServiceDesc, GRPCInferenceServiceDesc, PredictionServiceDesc, PredictionsLoggedEventSchema, RevisionState, RunServiceDesc, type Endpoint, type PredictionLoggedEvent } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;
const X = [0.5, -1, 2, 4];
const floats = (bytes: Uint8Array) => [...new Float32Array(bytes.slice().buffer)];

describe('prediction logs and tracing: from a request id back to the dataset versions the model was trained on (SQLite)', () => {
  let stack: OnnxServing;
  let platform: TestPlatform;
  let rest: string;
  let token: string;
  let runId: string;
  let endpoint: Endpoint;
  let endpoints: Awaited<ReturnType<typeof platform.client<(typeof EndpointServiceDesc)['method']>>>;
  let predictions: Awaited<ReturnType<typeof platform.client<(typeof PredictionServiceDesc)['method']>>>;
  let inference: Awaited<ReturnType<typeof platform.client<(typeof GRPCInferenceServiceDesc)['method']>>>;
  let servingAddress: string;
  const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
  const vera = { sub: 'vera', bindings: [{ project: 'p1', role: 'viewer' as const }] };
  const oscar = { sub: 'oscar', bindings: [{ project: 'p2', role: 'owner' as const }] };
  const dataset = { name: 'churn', digest: 'd1', sourceType: 'trellis', source: '{"uri": "datasets:/churn/3"}' };

  const infer = async (id?: string) => {
    const response = await fetch(`${rest}/v2/models/scale/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...(id && { id }), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: X }] }),
    });
    const body = (await response.json()) as { id: string };
    return { status: response.status, requestId: response.headers.get('trellis-request-id'), id: body.id };
  };

  beforeAll(async () => {
    stack = await startOnnxServing('predictions');
    ({ platform, rest } = stack);
    servingAddress = stack.serving.grpcAddress;
    token = await platform.keys.mint(erin);
    endpoints = await platform.client(EndpointServiceDesc, servingAddress, erin);
    predictions = await platform.client(PredictionServiceDesc, servingAddress, erin);
    inference = await platform.client(GRPCInferenceServiceDesc, servingAddress, erin);
    runId = await stack.createRun(erin, 'scale');
    // The training run records the dataset version it read, as the MLflow client's log_input does.
    const runs = await platform.client(RunServiceDesc, stack.tracking.grpcAddress, erin);
    await runs.logInputs({ runId, datasets: [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'training' }] }] });
    await stack.registerVersions(erin, runId, 'scale', [['model', await scaleModel(2, join(stack.dir, 'm.onnx'))]]);
    endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name: 'scale', model: 'models:/scale/1' })).endpoint!;
    await eventually(async () => expect((await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions[0].state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('logs nothing by default: the request id comes back, but it is not traceable', async () => {
    expect((await predictions.getPredictionLogging({ endpointId: endpoint.id })).logging).toMatchObject({ sampleShare: 0, isDefault: true });
    const answer = await infer('unlogged-1');
    expect(answer).toEqual({ status: 200, requestId: 'unlogged-1', id: 'unlogged-1' });
    const refused = await failure(predictions.tracePrediction({ requestId: 'unlogged-1' }));
    expect(refused?.code).toBe(status.NOT_FOUND);
    expect(refused?.details).toContain('only sampled requests are kept');
  });

  it('at a share of 1, traces a REST and a gRPC request to the revision, model version, run and the dataset version the run trained on', async () => {
    await predictions.setPredictionLogging({ endpointId: endpoint.id, sampleShare: 1 });
    const rest = await infer();
    expect(rest.requestId).toBe(rest.id);
    const grpc = await inference.modelInfer({ modelName: 'scale', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: X } }] });
    for (const requestId of [rest.id, grpc.id]) {
      const trace = await eventually(() => predictions.tracePrediction({ requestId }));
      expect(trace).toMatchObject({
        prediction: { requestId, projectId: 'p1', endpointId: endpoint.id, endpointName: 'scale', revisionId: endpoint.revisions[0].id },
        revisionNumber: 1,
        modelName: 'scale',
        modelVersion: 1n,
        runId,
        datasets: [{ ...dataset, context: 'training' }],
      });
    }
  });

  it('traces only for callers who may read the endpoint; only editors set the share', async () => {
    const { id } = await infer('rbac-1');
    await eventually(() => predictions.tracePrediction({ requestId: id }));
    const viewer = await platform.client(PredictionServiceDesc, servingAddress, vera);
    expect((await viewer.tracePrediction({ requestId: id })).runId).toBe(runId);
    expect((await failure(viewer.setPredictionLogging({ endpointId: endpoint.id, sampleShare: 0.5 })))?.code).toBe(status.PERMISSION_DENIED);
    const outsider = await platform.client(PredictionServiceDesc, servingAddress, oscar);
    expect((await failure(outsider.tracePrediction({ requestId: id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(predictions.setPredictionLogging({ endpointId: endpoint.id, sampleShare: 1.5 })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it("shows each revision's requests and latency on /metrics", async () => {
    const text = await (await fetch(`${platform.opsAddress}/metrics`)).text();
    const revision = endpoint.revisions[0].id;
    expect(text).toMatch(new RegExp(`trellis_serving_requests_total\\{endpoint="scale",revision="${revision}",outcome="ok"\\} [4-9]`));
    expect(text).toContain(`trellis_serving_request_duration_seconds_bucket{le="+Inf",endpoint="scale",revision="${revision}"}`);
    expect(text).toContain(`trellis_serving_batch_size_runs{endpoint="scale",revision="${revision}",le="+Inf"}`);
  });

  it('publishes each request of a burst once, with its tensors, and keeps every one traceable', async () => {
    const logged: PredictionLoggedEvent[] = [];
    const subscription = await platform.runtime.bus.subscribe({
      durable: 'spec-prediction-logs',
      subject: 'trellis.serving.v1.predictions.logged',
      handler: async (envelope) => void logged.push(...fromBinary(PredictionsLoggedEventSchema, envelope.payload).predictions),
    });
    try {
      await predictions.setPredictionLogging({ endpointId: endpoint.id, sampleShare: 1 });
      const ids = Array.from({ length: 100 }, (_, index) => `burst-${index}`);
      await Promise.all(ids.map((id) => inference.modelInfer({ id, modelName: 'scale', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: X } }] })));

      const burst = () => logged.filter((event) => event.prediction!.requestId.startsWith('burst-'));
      await eventually(() => expect(burst().map((event) => event.prediction!.requestId).sort()).toEqual([...ids].sort()));
      const [first] = burst();
      expect(first.inputs[0]).toMatchObject({ name: 'x', datatype: 'FP32', shape: [1n, 4n], truncated: false });
      expect(floats(first.inputs[0].rawContents)).toEqual(X);
      expect(floats(first.outputs[0].rawContents)).toEqual(X.map((value) => value * 2));
      for (const requestId of ids) await eventually(async () => expect((await predictions.tracePrediction({ requestId })).prediction?.requestId).toBe(requestId));
    } finally {
      await subscription.stop();
    }
  });
});
