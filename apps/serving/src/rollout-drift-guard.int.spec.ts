import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import type { EventSubscription, GrpcCallError, GrpcClient } from '@trellis/platform';
import type { TestPlatform } from '@trellis/platform/testing';
import {
  EndpointServiceDesc,
  EventEnvelopeSchema,
  RegistryServiceDesc,
  RevisionState,
  RolloutEventSchema,
  RolloutServiceDesc,
  RolloutStage,
  WindowClosedEventSchema,
  type Endpoint,
  type Rollout,
} from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;
const COLUMNS = ['age', 'income', 'tenure', 'plan', 'region', 'calls'];

/** A window of `monitorName` scored as dataset drift (4 of its 6 columns drifted), as monitoring's outbox publishes it on drift.detected. */
function driftDetected(window: { projectId?: string; monitorName?: string; endpointName: string; number: number; closedAt: number; revisionIds: string[] }) {
  const projectId = window.projectId ?? 'p1';
  const message = create(WindowClosedEventSchema, {
    projectId,
    monitorName: window.monitorName ?? 'churn-drift',
    endpointName: window.endpointName,
    revisionIds: window.revisionIds,
    window: {
      monitorId: 'monitor-1',
      number: BigInt(window.number),
      startTime: timestampFromMs(window.closedAt - 1000),
      endTime: timestampFromMs(window.closedAt),
      rows: 500n,
      columns: COLUMNS.map((column, i) => ({ column, detector: 'ks', pValue: true, value: i < 4 ? 0.001 : 0.4, threshold: 0.05, drifted: i < 4, rows: 500n })),
      driftedColumns: 4,
      driftShare: 4 / 6,
      datasetDrift: true,
      closeTime: timestampFromMs(window.closedAt),
    },
  });
  return create(EventEnvelopeSchema, {
    id: randomUUID(),
    subject: 'trellis.monitoring.v1.drift.detected',
    payloadType: WindowClosedEventSchema.typeName,
    payload: toBinary(WindowClosedEventSchema, message),
    eventTime: timestampFromMs(window.closedAt),
    projectId,
    actor: 'service-monitoring',
    requestId: `monitoring-window-${window.number}`,
  });
}

describe("progressive rollout: a canary whose policy's drift monitor scores a window of its rows as dataset drift is rolled back by itself (SQLite, ONNX)", () => {
  let stack: OnnxServing;
  let platform: TestPlatform;
  let registry: GrpcClient<(typeof RegistryServiceDesc)['method']>;
  let endpoints: GrpcClient<(typeof EndpointServiceDesc)['method']>;
  let rollouts: GrpcClient<(typeof RolloutServiceDesc)['method']>;
  let subscription: EventSubscription;
  let rest: string;
  let token: string;
  /** Guarded by the drift monitor; bakes for an hour and needs more requests than it gets, so only drift decides it. */
  let guarded: Endpoint;
  /** The same policy on another endpoint of the project. */
  let sibling: Endpoint;
  /** The same monitor on an endpoint whose canary bakes briefly and is promoted. */
  let quick: Endpoint;
  const rolledBack: Array<{ endpointName: string; reason: string }> = [];
  const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
  const policy = (bakeTimeMs: bigint, minRequests: bigint, driftMonitor = 'churn-drift') => ({
    follow: 'models:/churn@champion',
    canaryPercent: 50,
    bakeTimeMs,
    guards: { maxErrorPercent: 5, minRequests },
    driftMonitor,
  });
  const latest = async (endpoint: Endpoint): Promise<Rollout | undefined> => (await rollouts.listRollouts({ endpointId: endpoint.id })).rollouts[0];
  const shares = async (endpoint: Endpoint) => {
    const current = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!;
    return Object.fromEntries(current.traffic!.targets.map((target) => [String(current.revisions.find((revision) => revision.id === target.revisionId)!.modelVersion), target.percent]));
  };
  const firstRevision = async (endpoint: Endpoint) => (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions.find((revision) => revision.number === 1)!.id;
  const infer = async (name: string) => {
    const response = await fetch(`${rest}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  beforeAll(async () => {
    stack = await startOnnxServing('rollout-drift', { TRELLIS_SERVING_ROLLOUT_INTERVAL_MS: '50' });
    ({ platform, rest } = stack);
    subscription = await platform.runtime.bus.subscribe({
      durable: 'serving-rollout-drift-spec',
      subject: 'trellis.serving.v1.rollout.rolled_back',
      handler: async (envelope) => {
        const event = fromBinary(RolloutEventSchema, envelope.payload);
        rolledBack.push({ endpointName: event.endpointName, reason: event.rollout!.reason });
      },
    });
    token = await platform.keys.mint(erin);
    endpoints = await platform.client(EndpointServiceDesc, stack.serving.grpcAddress, erin);
    rollouts = await platform.client(RolloutServiceDesc, stack.serving.grpcAddress, erin);
    registry = await platform.client(RegistryServiceDesc, stack.registry.grpcAddress, erin);
    await stack.registerVersions(erin, await stack.createRun(erin, 'churn'), 'churn', [
      ['v1', await scaleModel(2, join(stack.dir, 'v1.onnx'))],
      ['v2', await scaleModel(3, join(stack.dir, 'v2.onnx'))],
    ]);
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 1n });
    const following = (name: string, rolloutPolicy: ReturnType<typeof policy>) => endpoints.createEndpoint({ projectId: 'p1', name, model: 'models:/churn@champion', rolloutPolicy });
    guarded = (await following('churn', policy(3_600_000n, 1000n))).endpoint!;
    sibling = (await following('churn-sibling', policy(3_600_000n, 1000n))).endpoint!;
    quick = (await following('churn-quick', policy(200n, 1n))).endpoint!;
    for (const endpoint of [guarded, sibling, quick]) {
      await eventually(async () => expect((await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions[0].state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
    }
  }, 120_000);

  afterAll(async () => {
    await subscription?.stop();
    await stack?.stop();
  });

  it('stores the drift monitor with the policy, and refuses one over 128 characters or with a control character, naming the field', async () => {
    expect((await endpoints.getEndpoint({ endpointId: guarded.id })).endpoint!.rolloutPolicy?.driftMonitor).toBe('churn-drift');
    const long = await failure(rollouts.setRolloutPolicy({ endpointId: guarded.id, policy: policy(3_600_000n, 1000n, 'm'.repeat(129)) }));
    expect({ code: long?.code, details: long?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^policy\.drift_monitor: .*128 characters/) });
    const bell = await failure(endpoints.createEndpoint({ projectId: 'p1', name: 'churn-bell', model: 'models:/churn@champion', rolloutPolicy: policy(1000n, 1n, 'churn\u0007drift') }));
    expect({ code: bell?.code, details: bell?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('rollout_policy.drift_monitor: contains the control character U+0007 at position 5') });
    expect((await endpoints.listEndpoints({ projectId: 'p1' })).endpoints.map((endpoint) => endpoint.name)).toEqual(['churn', 'churn-quick', 'churn-sibling']);
    const { policy: stored } = await rollouts.listRollouts({ endpointId: guarded.id });
    expect(stored).toMatchObject({ follow: 'models:/churn@champion', driftMonitor: 'churn-drift' });
  });

  it("rolls the canary back on its monitor's dataset drift in a window with its rows, and on nothing else", async () => {
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 2n });
    for (const endpoint of [guarded, sibling, quick]) await eventually(async () => expect((await latest(endpoint))?.stage).toBe(RolloutStage.CANARY), { timeoutMs: 30_000 });
    // The quick canary bakes within its guards and is promoted before the windows below close.
    await eventually(
      async () => {
        for (let i = 0; i < 10; i++) expect(await infer('churn-quick')).toBe(200);
        expect((await latest(quick))?.stage).toBe(RolloutStage.PROMOTED);
      },
      { timeoutMs: 60_000 },
    );
    expect(await shares(quick)).toEqual({ '2': 100 });

    const canary = (await latest(guarded))!;
    const startedAt = timestampMs(canary.startTime!);
    const candidate = canary.candidateRevisionId;
    const serving = await firstRevision(guarded);
    const bus = platform.runtime.bus;
    // Each publish resolves once serving has handled the event; none of these may touch a canary.
    await bus.publish(driftDetected({ monitorName: 'fraud-drift', endpointName: 'churn', number: 3, closedAt: startedAt + 1, revisionIds: [serving, candidate] }));
    await bus.publish(driftDetected({ endpointName: 'churn', number: 4, closedAt: startedAt + 1, revisionIds: [serving] }));
    await bus.publish(driftDetected({ endpointName: 'churn', number: 5, closedAt: startedAt - 60_000, revisionIds: [serving, candidate] }));
    await bus.publish(driftDetected({ projectId: 'p2', endpointName: 'churn', number: 6, closedAt: startedAt + 1, revisionIds: [serving, candidate] }));
    const promoted = (await latest(quick))!;
    await bus.publish(driftDetected({ endpointName: 'churn-quick', number: 8, closedAt: timestampMs(promoted.startTime!) + 1, revisionIds: [promoted.candidateRevisionId] }));

    await bus.publish(driftDetected({ endpointName: 'churn', number: 7, closedAt: startedAt + 1, revisionIds: [serving, candidate] }));
    const reason = 'drift monitor churn-drift: window 7 was dataset drift (4 of 6 columns)';
    // The first window that condemns a canary gives its reason: window 7, so none of windows 3 to 6 did.
    await eventually(async () => expect(await latest(guarded)).toMatchObject({ id: canary.id, stage: RolloutStage.ROLLED_BACK, reason }), { timeoutMs: 30_000 });
    expect(await shares(guarded)).toEqual({ '1': 100 });
    await eventually(async () => expect(rolledBack).toContainEqual({ endpointName: 'churn', reason }));

    // Window 7 was the guarded endpoint's: its sibling's canary, on the same monitor, is condemned by its own window only.
    const siblingCanary = (await latest(sibling))!;
    await bus.publish(driftDetected({ endpointName: 'churn-sibling', number: 9, closedAt: timestampMs(siblingCanary.startTime!) + 1, revisionIds: [siblingCanary.candidateRevisionId] }));
    const siblingReason = 'drift monitor churn-drift: window 9 was dataset drift (4 of 6 columns)';
    await eventually(async () => expect(await latest(sibling)).toMatchObject({ id: siblingCanary.id, stage: RolloutStage.ROLLED_BACK, reason: siblingReason }), { timeoutMs: 30_000 });
    expect(await shares(sibling)).toEqual({ '1': 100 });

    expect(await latest(quick)).toEqual(promoted);
    expect(await shares(quick)).toEqual({ '2': 100 });
    await eventually(async () =>
      expect(rolledBack).toEqual([
        { endpointName: 'churn', reason },
        { endpointName: 'churn-sibling', reason: siblingReason },
      ]),
    );
  });

  it('changes nothing when drift is reported again for a canary already rolled back', async () => {
    const decided = (await latest(guarded))!;
    await platform.runtime.bus.publish(driftDetected({ endpointName: 'churn', number: 10, closedAt: timestampMs(decided.startTime!) + 1, revisionIds: [decided.candidateRevisionId] }));
    expect(await latest(guarded)).toEqual(decided);
    expect(await shares(guarded)).toEqual({ '1': 100 });
  });
});
