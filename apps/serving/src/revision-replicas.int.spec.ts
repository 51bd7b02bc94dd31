import 'reflect-metadata';
import { join } from 'node:path';
import type { TestPlatform } from '@trellis/platform/testing';
import { EndpointServiceDesc, RevisionState, type Endpoint } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const X = [0.5, -1, 2, 4];

/**
 * Each endpoint batches as many rows as the spec makes calls at once, for up to a second: one model
 * instance given all the calls runs them as one batch; instances given one call each run it alone.
 */
describe("a revision's replicas: that many model instances, each in a worker thread, with calls spread over them (runtime-onnx, SQLite)", () => {
  let stack: OnnxServing;
  let platform: TestPlatform;
  let token: string;
  let endpoints: Awaited<ReturnType<typeof platform.client<(typeof EndpointServiceDesc)['method']>>>;
  const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };

  const deploy = async (name: string, replicas: number, maxBatchSize: number): Promise<Endpoint> => {
    const endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name, model: 'models:/scale/1', replicas, batching: { maxBatchSize, maxQueueDelayUs: 1_000_000n } })).endpoint!;
    await eventually(async () => expect((await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions[0].state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
    return endpoint;
  };
  const inferAtOnce = (endpoint: string, calls: number) =>
    Promise.all(
      Array.from({ length: calls }, async () => {
        const response = await fetch(`${stack.rest}/v2/models/${endpoint}/infer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: X }] }),
        });
        return { status: response.status, body: (await response.json()) as { outputs?: Array<{ data: number[] }> } };
      }),
    );
  /** The runs of the revision's model as /metrics reports them: how many had one row, and how many in all. */
  const runsOf = async (revisionId: string) => {
    const values = (await platform.runtime.metrics.registry.getSingleMetric('trellis_serving_batch_size_runs')!.get()).values.filter((value) => value.labels.revision === revisionId);
    return { ofOneRow: values.find((value) => value.labels.le === '1')?.value, all: values.find((value) => value.labels.le === '+Inf')?.value };
  };

  /** Deploys the scale model with `replicas` to a new endpoint, makes `calls` at once (each answered as the model computes) and resolves with its runs. */
  const runsOfCallsAtOnce = async (name: string, replicas: number, calls: number) => {
    const endpoint = await deploy(name, replicas, calls);
    expect(await inferAtOnce(name, calls)).toEqual(Array(calls).fill({ status: 200, body: expect.objectContaining({ outputs: [expect.objectContaining({ data: X.map((value) => value * 2) })] }) }));
    return runsOf(endpoint.revisions[0].id);
  };

  beforeAll(async () => {
    stack = await startOnnxServing('revision-replicas');
    platform = stack.platform;
    token = await platform.keys.mint(erin);
    endpoints = await platform.client(EndpointServiceDesc, stack.serving.grpcAddress, erin);
    await stack.registerVersions(erin, await stack.createRun(erin, 'scale'), 'scale', [['v1', await scaleModel(2, join(stack.dir, 'v1.onnx'))]]);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs one model instance for one replica: concurrent calls share its batches', async () => {
    await expect(runsOfCallsAtOnce('scale-one', 1, 3)).resolves.toEqual({ ofOneRow: 0, all: 1 });
  }, 60_000);

  it('loads a revision with 3 replicas into 3 model instances and gives each of 3 concurrent calls an instance of its own', async () => {
    await expect(runsOfCallsAtOnce('scale-three', 3, 3)).resolves.toEqual({ ofOneRow: 3, all: 3 });
  }, 60_000);

  it('loads a revision with 2 replicas twice: 2 concurrent calls run apart', async () => {
    await expect(runsOfCallsAtOnce('scale-two', 2, 2)).resolves.toEqual({ ofOneRow: 2, all: 2 });
  }, 60_000);
});
