import { fromBinary } from '@bufbuild/protobuf';
import { type EventBus, Metrics, silentLogger } from '@trellis/platform';
import type { Tensor } from '@trellis/plugin-sdk';
import { eventually } from '@trellis/testing';
import { PredictionsLoggedEventSchema, type EventEnvelope } from '@trellis/proto';
import type { InferenceTarget } from '../inference/inference-targets';
import { RevisionMetrics } from '../metrics/revision-metrics';
import { EndpointStatsRecorder } from '../stats/endpoint-stats.recorder';
import type { EndpointStatsRepository } from '../stats/endpoint-stats.repository';
import type { ServingConfig } from '../serving.config';
import type { PredictionEntity } from './prediction.entity';
import type { PredictionRepository } from './prediction.repository';
import { PredictionLog, sampled } from './prediction-log';

/** A bus that takes batches at once, or holds every batch until `release` (a stalled broker). */
class TestBus {
  readonly taken: EventEnvelope[] = [];
  stalled = false;
  private readonly held: Array<() => void> = [];
  publish = async (envelope: EventEnvelope) => void this.taken.push(envelope);
  publishBatch = (batch: readonly EventEnvelope[]) => {
    if (!this.stalled) return Promise.resolve(void this.taken.push(...batch));
    return new Promise<void>((resolve) => this.held.push(() => resolve(void this.taken.push(...batch))));
  };
  release(): void {
    this.stalled = false;
    for (const resume of this.held.splice(0)) resume();
  }
  subscribe = jest.fn();
  watch = jest.fn();
  close = jest.fn();
}

const x: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) };
const big: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) };
/** 160,000 bytes: with its output (as big), two predictions' tensors are over a pack's 512 KiB. */
const huge: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 40_000], data: new Float32Array(40_000) };

function setUp(config: Partial<ServingConfig> = {}) {
  const bus = new TestBus();
  const kit = new Metrics();
  const metrics = new RevisionMetrics(kit);
  const stored: Omit<PredictionEntity, 'seq'>[] = [];
  const repository = { insert: async (rows: Omit<PredictionEntity, 'seq'>[]) => void stored.push(...rows), shares: async () => [], prune: async () => 0 } as unknown as PredictionRepository;
  const settings = { predictionLogShare: 1, predictionLogBufferSize: 10_000, predictionLogPackSize: 256, predictionLogPackLingerMs: 20, predictionLogMaxTensorBytes: 65_536, predictionRetentionDays: 30, predictionLogRefreshMs: 10_000, ...config } as ServingConfig;
  const stats = new EndpointStatsRecorder({ add: async () => undefined } as unknown as EndpointStatsRepository, silentLogger as never);
  const log = new PredictionLog(metrics, stats, repository, bus as unknown as EventBus, kit, settings, silentLogger as never);
  const target: InferenceTarget = {
    name: 'fraud',
    version: '3',
    versions: ['3'],
    platform: 'onnx',
    revision: 'rev-1',
    endpoint: { id: 'ep-1', projectId: 'p1' },
    signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, -1] }] },
    isReady: () => true,
    infer: async (inputs) => [{ ...inputs[0], name: 'y' }],
  };
  // As the protocol handlers report a call once the model answered.
  const infer = async (requestId: string, input = x, projectId = 'p1') => {
    const call = { ...target, endpoint: { id: 'ep-1', projectId } };
    const outputs = await call.infer([input], { requestId });
    log.observe({ target: call, requestId, inputs: [input], outputs, latencyMs: 0.25 });
    return outputs;
  };
  const packs = () => bus.taken.map((envelope) => ({ envelope, pack: fromBinary(PredictionsLoggedEventSchema, envelope.payload) }));
  /** Every published prediction, packs flattened. */
  const events = () => packs().flatMap(({ envelope, pack }) => pack.predictions.map((event) => ({ envelope, event })));
  const dropped = async () => (await kit.registry.getSingleMetricAsString('trellis_serving_predictions_dropped_total')).match(/_total (\d+)/)?.[1];
  return { bus, kit, metrics, log, stored, infer, events, packs, dropped };
}

describe('PredictionLog', () => {
  it('at a share of 1 logs every request: id, endpoint, revision, inputs, outputs and latency, and keeps it for tracing', async () => {
    const { log, infer, events, stored } = setUp();
    for (let index = 0; index < 5; index++) await infer(`req-${index}`);
    await log.flush();
    const logged = events();
    expect(logged.map(({ event }) => event.prediction?.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
    expect(logged[0].envelope).toMatchObject({ subject: 'trellis.serving.v1.predictions.logged', projectId: 'p1' });
    const { event } = logged[0];
    expect(event.prediction).toMatchObject({ endpointId: 'ep-1', endpointName: 'fraud', revisionId: 'rev-1', projectId: 'p1' });
    expect(event.prediction!.latencyUs).toBeGreaterThanOrEqual(0n);
    expect(event.inputs[0]).toMatchObject({ name: 'x', datatype: 'FP32', shape: [1n, 4n], truncated: false });
    expect([...new Float32Array(event.inputs[0].rawContents.slice().buffer)]).toEqual([1, 2, 3, 4]);
    expect(event.outputs[0]).toMatchObject({ name: 'y', shape: [1n, 4n] });
    expect(stored.map((row) => row.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  });

  it('at a share of 0 logs nothing, yet counts every request in the revision metrics', async () => {
    const { log, infer, events, stored, metrics } = setUp({ predictionLogShare: 0 });
    for (let index = 0; index < 5; index++) await infer(`req-${index}`);
    await log.flush();
    expect(events()).toEqual([]);
    expect(stored).toEqual([]);
    expect(metrics.window('rev-1', 0)).toMatchObject({ requests: 5, errors: 0 });
  });

  it("follows an endpoint's own share over the default, sampling by a hash of the request id", async () => {
    const { log, infer, events } = setUp({ predictionLogShare: 0 });
    log.applyShare('ep-1', 0.5);
    const ids = Array.from({ length: 200 }, (_, index) => `req-${index}`);
    for (const id of ids) await infer(id);
    await log.flush();
    const logged = events().map(({ event }) => event.prediction!.requestId);
    expect(logged).toEqual(ids.filter((id) => sampled(id, 0.5)));
    expect(logged.length).toBeGreaterThan(60);
    expect(logged.length).toBeLessThan(140);
  });

  it('logs a tensor over the size cap with its name, datatype and shape, without its data', async () => {
    const { log, infer, events } = setUp({ predictionLogMaxTensorBytes: 64 });
    await infer('big', big);
    await log.flush();
    expect(events()[0].event.inputs[0]).toMatchObject({ name: 'x', shape: [1n, 64n], truncated: true, rawContents: new Uint8Array() });
  });

  it('packs the logs of many requests into one event, up to predictionLogPackSize each, in the order they were answered', async () => {
    const { log, infer, packs, stored } = setUp({ predictionLogPackSize: 2 });
    for (let index = 0; index < 5; index++) await infer(`req-${index}`);
    await log.flush();
    expect(packs().map(({ pack }) => pack.predictions.map((event) => event.prediction!.requestId))).toEqual([['req-0', 'req-1'], ['req-2', 'req-3'], ['req-4']]);
    expect(stored.map((row) => row.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  });

  it('publishes a pack that is not full once predictionLogPackLingerMs has passed, without a flush', async () => {
    const { infer, packs } = setUp({ predictionLogPackLingerMs: 1 });
    await infer('req-0');
    await infer('req-1');
    await eventually(() => expect(packs().map(({ pack }) => pack.predictions.length)).toEqual([2]));
  });

  it("packs each project's requests apart, the envelope naming the project", async () => {
    const { log, infer, packs } = setUp();
    await infer('a-0', x, 'p1');
    await infer('b-0', x, 'p2');
    await infer('a-1', x, 'p1');
    await log.flush();
    expect(packs().map(({ envelope, pack }) => [envelope.projectId, pack.predictions.map((event) => event.prediction!.requestId)])).toEqual([
      ['p1', ['a-0', 'a-1']],
      ['p2', ['b-0']],
    ]);
  });

  it("closes a pack before its tensors pass about 512 KiB, the bus's message limit in mind", async () => {
    const { log, infer, packs } = setUp({ predictionLogMaxTensorBytes: 200_000 });
    for (let index = 0; index < 3; index++) await infer(`huge-${index}`, huge);
    await log.flush();
    expect(packs().map(({ pack }) => pack.predictions.length)).toEqual([1, 1, 1]);
    expect(packs()[0].pack.predictions[0].inputs[0]).toMatchObject({ shape: [1n, 40_000n], truncated: false });
  });

  it('publishes the open pack at shutdown, and counts a later request as dropped', async () => {
    const { log, infer, events, stored, dropped } = setUp();
    for (let index = 0; index < 3; index++) await infer(`req-${index}`);
    await log.onApplicationShutdown();
    expect(events().map(({ event }) => event.prediction!.requestId)).toEqual(['req-0', 'req-1', 'req-2']);
    expect(stored).toHaveLength(3);
    await infer('late');
    expect(await dropped()).toBe('1');
    expect(stored).toHaveLength(3);
  });

  it('never waits for a stalled bus: requests complete, packs beyond the buffer are dropped and their predictions counted, and only those published are traceable', async () => {
    // Packs of 2, the buffer 4 predictions: 2 packs (a batch the bus holds still counts until the bus takes it).
    const { bus, kit, log, infer, events, stored, dropped } = setUp({ predictionLogBufferSize: 4, predictionLogPackSize: 2 });
    bus.stalled = true;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => infer(`req-${index}`)));
    expect(answers).toHaveLength(10);
    expect(await dropped()).toBe('6');
    expect(await kit.registry.metrics()).toMatch(/trellis_events_dropped_total\{subject="trellis.serving.v1.predictions.logged"\} 3/);
    bus.release();
    await log.flush();
    expect(events().map(({ event }) => event.prediction!.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
    expect(stored.map((row) => row.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
  });
});
